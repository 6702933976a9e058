"""docs/security/asvs.md and tests/security/ agree: every security test is on the page,
and every test the page names exists.
"""

import ast
import re
from pathlib import Path

import pytest

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "docs" / "security" / "asvs.md"


def _security_tests() -> set[str]:
    names = set()
    for path in (ROOT / "tests" / "security").glob("test_*.py"):
        for node in ast.parse(path.read_text()).body:
            function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if function and node.name.startswith("test_"):
                names.add(node.name)
    return names


def test_every_security_test_is_on_the_asvs_page() -> None:
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", PAGE.read_text()))
    tests = _security_tests() - {"test_every_security_test_is_on_the_asvs_page"}
    assert tests - named == set(), "security tests missing from docs/security/asvs.md"
    assert named - tests == set(), "docs/security/asvs.md names tests that do not exist"
