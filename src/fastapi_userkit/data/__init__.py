"""Data files shipped with the kit (read with `importlib.resources`)."""
