import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import fastapi_userkit

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass


def test_all_is_sorted_and_complete() -> None:
    assert fastapi_userkit.__all__ == sorted(fastapi_userkit.__all__)
    public = {name for name in dir(fastapi_userkit) if not name.startswith("_")}
    modules = {name for name in public if inspect.ismodule(getattr(fastapi_userkit, name))}
    assert public - modules == set(fastapi_userkit.__all__)
    for name in fastapi_userkit.__all__:
        assert getattr(fastapi_userkit, name) is not None


def test_import_has_no_side_effects(tmp_path: Path) -> None:
    code = (
        "import os, sys, fastapi_userkit, fastapi_userkit.db, fastapi_userkit.db.default\n"
        "assert 'redis' not in sys.modules and 'asyncpg' not in sys.modules\n"
        # PyJWT imports cryptography when installed; the kit's own use of it stays lazy.
        "assert 'fastapi_userkit._asymmetric' not in sys.modules\n"
        "assert os.listdir('.') == [], os.listdir('.')\n"
    )
    env = {
        "USERKIT_SECRET_KEY": "weak",
        "USERKIT_DATABASE_URL": "nonsense://",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_py_typed_marker() -> None:
    assert (Path(fastapi_userkit.__file__).parent / "py.typed").exists()


PACKAGE_DIR = Path(fastapi_userkit.__file__).parent
PUBLIC_MODULES = sorted(
    ".".join(
        ("fastapi_userkit", *path.relative_to(PACKAGE_DIR).with_suffix("").parts)
    ).removesuffix(".__init__")
    for path in PACKAGE_DIR.rglob("*.py")
    if not any(part.startswith("_") and part != "__init__.py" for part in path.parts[-3:])
    and "routers" not in path.parts
    and path.name != "__main__.py"
)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_module_declares_its_names(name: str) -> None:
    """Private modules start with `_`; every other one says what it exports."""
    import importlib

    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(set(exported)) == len(exported)
    for attribute in exported:
        assert hasattr(module, attribute), f"{name}.{attribute}"


def test_every_exception_is_exported_from_the_root() -> None:
    from fastapi_userkit import exceptions

    assert set(exceptions.__all__) <= set(fastapi_userkit.__all__)
