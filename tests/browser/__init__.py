"""Tests in a real headless Chromium, driven by Selenium."""
