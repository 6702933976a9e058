"""ASVS 4.0.3 V14.2 (dependencies): libraries the project refuses are not installed.

python-jose and passlib are unmaintained, and each had vulnerabilities fixed late or not at
all; the kit uses PyJWT and bcrypt (and argon2-cffi) directly. Neither may come back, not
even through another package's requirements.
"""

from importlib import metadata

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
