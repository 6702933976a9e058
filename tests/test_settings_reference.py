"""The settings reference page is written from the settings themselves."""

import runpy
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from fastapi_userkit import UserKitSettings
from fastapi_userkit.config import GROUPS, PasswordSettings
from tests.conftest import SECRET

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

TOOL = Path(__file__).resolve().parents[1] / "tools" / "settings_reference.py"


def tool() -> dict[str, Any]:
    return runpy.run_path(str(TOOL))


def test_the_page_is_up_to_date() -> None:
    namespace = tool()
    page = namespace["PAGE"].read_text("utf-8")
    assert namespace["updated"](page) == page, "run: python tools/settings_reference.py"


def test_the_check_notices_a_stale_page() -> None:
    namespace = tool()
    page = namespace["PAGE"].read_text("utf-8").replace("bcrypt cost factor", "cost")
    assert namespace["updated"](page) != page


def test_every_setting_is_in_exactly_one_group() -> None:
    grouped = [name for group in GROUPS.values() for name in group.model_fields]
    assert sorted(grouped) == sorted(UserKitSettings.model_fields)
    assert len(grouped) == len(set(grouped))
    for name, field in UserKitSettings.model_fields.items():
        assert field.description, f"{name} has no docstring"


def test_groups_can_be_given_and_read_whole() -> None:
    settings = UserKitSettings(secret_key=SECRET, passwords=PasswordSettings(bcrypt_rounds=5))
    assert settings.bcrypt_rounds == settings.passwords.bcrypt_rounds == 5
    assert settings.tokens.access_token_ttl == settings.access_token_ttl
    assert UserKitSettings(secret_key=SECRET, mail={"mail_from": "a@b.example"}).mail_from == (
        "a@b.example"
    )
    with pytest.raises(ValidationError, match="given both alone and in passwords"):
        UserKitSettings(bcrypt_rounds=4, passwords=PasswordSettings(bcrypt_rounds=5))
    with pytest.raises(ValidationError):
        UserKitSettings(passwords=PasswordSettings(bcrypt_rounds=3))


def test_flat_environment_names_keep_working(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERKIT_BCRYPT_ROUNDS", "6")
    monkeypatch.setenv("USERKIT_RATE_LIMIT_LOGIN_IP", "7/60")
    settings = UserKitSettings()
    assert settings.passwords.bcrypt_rounds == 6
    assert settings.rate_limits.rate_limit_login_ip == "7/60"
