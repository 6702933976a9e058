"""The Makefile targets the README names take the options it documents."""

import shutil
import subprocess
from pathlib import Path

import pytest

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = [
    pytest.mark.single_pass,
    pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed"),
]

ROOT = Path(__file__).parents[1]


def _dry_run(*args: str) -> str:
    result = subprocess.run(  # noqa: S603 - make, with our own arguments
        ["make", "--dry-run", "--always-make", *args],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_demo_port_is_an_option() -> None:
    assert "--port 8000" in _dry_run("demo")
    assert "--port 8080" in _dry_run("demo", "PORT=8080")


def test_docs_serve_target() -> None:
    assert "mkdocs serve --strict -a 127.0.0.1:8001" in _dry_run("docs-serve")
    assert "127.0.0.1:9001" in _dry_run("docs-serve", "DOCS_PORT=9001")


def test_readme_names_the_targets() -> None:
    readme = (ROOT / "README.md").read_text()
    for text in ("make demo PORT=8080", "make docs-serve", "make test", "site/index.html"):
        assert text in readme
