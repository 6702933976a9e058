"""ASVS 4.0.3 V14.2 (dependencies): libraries the project refuses are not installed.

python-jose and passlib are unmaintained, and each had vulnerabilities fixed late or not at
all; the kit uses PyJWT and bcrypt (and argon2-cffi) directly. Neither may come back, not
even through another package's requirements.
"""

import importlib.util
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

REFUSED = ("python-jose", "passlib")


def _installed() -> dict[str, str]:
    names = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            names[name.lower().replace("_", "-")] = dist.version
    return names


@pytest.mark.parametrize("name", REFUSED)
def test_v14_2_1_refused_library_is_not_installed(name: str) -> None:
    installed = _installed()
    assert "pyjwt" in installed  # the listing works: the kit's own JWT library is there
    assert name not in installed, f"{name} {installed.get(name)} is installed"


def test_v14_2_1_package_does_not_require_a_refused_library() -> None:
    requirements = metadata.requires("fastapi-userkit") or []
    named = {
        r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip().lower()
        for r in requirements
    }
    assert named  # the package's requirements were read
    assert not named & set(REFUSED)


def _audit_tool() -> Any:
    path = Path(__file__).parents[2] / "tools" / "audit_dependencies.py"
    spec = importlib.util.spec_from_file_location("audit_dependencies", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_v14_2_1_the_audit_gate_fails_on_a_known_vulnerability() -> None:
    verdict = _audit_tool().verdict
    vulnerable = {
        "name": "jinja2",
        "version": "2.4.1",
        "vulns": [{"id": "PYSEC-2014-8", "fix_versions": ["2.7.2"]}],
    }
    clean = {"name": "pyjwt", "version": "2.10.1", "vulns": []}
    unknown = {"name": "private", "skip_reason": "Dependency not found on PyPI"}
    code, lines = verdict([clean, vulnerable, unknown])
    assert code == 1
    assert "jinja2 2.4.1: PYSEC-2014-8 (fixed in 2.7.2)" in lines
    assert verdict([clean, unknown]) == (
        0,
        ["pip-audit: 1 packages audited, no known vulnerability; 1 unknown to the service"],
    )
    code, lines = verdict([unknown])
    assert code == 0 and "skipped" in lines[-1]
