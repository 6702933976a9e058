import logging
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import create_async_engine

from fastapi_userkit import ConfigurationError, UserKitSettings, include_user_router
from tests.conftest import SECRET

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass


class TestSettings:
    def test_defaults(self) -> None:
        s = UserKitSettings()
        assert s.secret_key is None
        assert s.database_url == "sqlite+aiosqlite:///./userkit.db"
        assert s.access_token_ttl == 900
        assert s.refresh_token_ttl == 1_209_600
        assert s.jwt_algorithm == "HS256"
        assert s.bcrypt_rounds == 12
        assert s.require_verified_login is False
        assert s.hash_concurrency >= 1

    def test_environment_names(self, monkeypatch: pytest.MonkeyPatch) -> None:
        env = {
            "USERKIT_SECRET_KEY": SECRET,
            "USERKIT_DATABASE_URL": "sqlite+aiosqlite:///./x.db",
            "USERKIT_ACCESS_TOKEN_TTL": "60",
            "USERKIT_REFRESH_TOKEN_TTL": "3600",
            "USERKIT_JWT_ALGORITHM": "HS384",
            "USERKIT_JWT_AUDIENCE": "my-api",
            "USERKIT_JWT_ISSUER": "https://auth.example.com",
            "USERKIT_BCRYPT_ROUNDS": "4",
            "USERKIT_REQUIRE_VERIFIED_LOGIN": "true",
        }
        env["USERKIT_SECRET_KEY"] = SECRET + "-and-enough-for-hs384"  # 48 bytes or more
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        s = UserKitSettings()
        assert s.secret_key is not None
        assert s.secret_key.get_secret_value() == SECRET + "-and-enough-for-hs384"
        assert s.database_url == "sqlite+aiosqlite:///./x.db"
        assert (s.access_token_ttl, s.refresh_token_ttl) == (60, 3600)
        assert (s.jwt_algorithm, s.jwt_audience, s.jwt_issuer) == (
            "HS384",
            "my-api",
            "https://auth.example.com",
        )
        assert s.bcrypt_rounds == 4
        assert s.require_verified_login is True

    def test_secret_never_in_repr(self) -> None:
        s = UserKitSettings(secret_key=SECRET)
        assert SECRET not in repr(s)
        assert SECRET not in str(s.model_dump())

    @pytest.mark.parametrize(
        "secret",
        [
            pytest.param("short", id="short"),
            pytest.param("x" * 31, id="31-bytes"),
            pytest.param("changethis", id="placeholder"),
            pytest.param("SECRET", id="fastapi-users-example"),
            pytest.param("changeme-changeme-changeme-changeme", id="long-placeholder"),
            pytest.param("a" * 64, id="repetitive"),
            pytest.param("abababababababababababababababab", id="two-chars"),
            pytest.param("abcdefgh" * 4, id="patterned"),
            pytest.param("0123456789abcdef" * 3 + "0123", id="patterned-cut-short"),
        ],
    )
    def test_weak_secrets_refused(self, secret: str) -> None:
        with pytest.raises(ValidationError) as info:
            UserKitSettings(secret_key=secret)
        assert "openssl rand -hex 32" in str(info.value)

    @pytest.mark.parametrize(("algorithm", "length"), [("HS384", 48), ("HS512", 64)])
    def test_key_length_follows_algorithm(self, algorithm: str, length: int) -> None:
        with pytest.raises(ValidationError, match=f"at least {length} bytes"):
            UserKitSettings(secret_key=SECRET[:40], jwt_algorithm=algorithm)
        UserKitSettings(secret_key=(SECRET * 2)[:length], jwt_algorithm=algorithm)

    @pytest.mark.parametrize("algorithm", ["none", "PS256", "hs256", "", "HS1"])
    def test_algorithm_allow_list(self, algorithm: str) -> None:
        with pytest.raises(ValidationError):
            UserKitSettings(jwt_algorithm=algorithm)

    def test_frozen_and_no_extra(self) -> None:
        s = UserKitSettings()
        with pytest.raises(ValidationError):
            s.bcrypt_rounds = 4  # type: ignore[misc]
        with pytest.raises(ValidationError):
            UserKitSettings(unknown_field=1)  # type: ignore[call-arg]

    def test_bcrypt_rounds_bounds(self) -> None:
        with pytest.raises(ValidationError):
            UserKitSettings(bcrypt_rounds=3)
        with pytest.raises(ValidationError):
            UserKitSettings(bcrypt_rounds=32)


class TestSecretAtStartup:
    def test_sqlite_without_secret_warns_once(
        self, caplog: pytest.LogCaptureFixture, tmp_path: Path
    ) -> None:
        sqlite = f"sqlite+aiosqlite:///{tmp_path}/warn.db"
        with caplog.at_level(logging.WARNING, logger="fastapi_userkit"):
            include_user_router(FastAPI(), settings=UserKitSettings(database_url=sqlite))
        warnings = [r for r in caplog.records if "USERKIT_SECRET_KEY is not set" in r.message]
        assert len(warnings) == 1

    def test_other_database_without_secret_is_configuration_error(self) -> None:
        settings = UserKitSettings(database_url="postgresql+asyncpg://u@127.0.0.1/db")
        with pytest.raises(ConfigurationError, match="USERKIT_SECRET_KEY"):
            include_user_router(FastAPI(), settings=settings)

    async def test_engine_of_other_dialect_without_secret(self) -> None:
        engine = create_async_engine("postgresql+asyncpg://u@127.0.0.1/db")
        try:
            with pytest.raises(ConfigurationError, match="USERKIT_SECRET_KEY"):
                include_user_router(FastAPI(), settings=UserKitSettings(), database=engine)
        finally:
            await engine.dispose()

    def test_weak_secret_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("USERKIT_SECRET_KEY", "changethis")
        with pytest.raises(ConfigurationError, match="secret_key"):
            include_user_router(FastAPI())

    def test_settings_read_from_environment_at_include_time(
        self, monkeypatch: pytest.MonkeyPatch, database_url: str
    ) -> None:
        monkeypatch.setenv("USERKIT_SECRET_KEY", SECRET)
        monkeypatch.setenv("USERKIT_DATABASE_URL", database_url)
        monkeypatch.setenv("USERKIT_ACCESS_TOKEN_TTL", "42")
        kit = include_user_router(FastAPI())
        assert kit.settings.access_token_ttl == 42
        assert kit._parts.access_tokens.ttl == 42

    def test_bad_database_argument(self, settings: UserKitSettings) -> None:
        with pytest.raises(ConfigurationError, match="database="):
            include_user_router(FastAPI(), settings=settings, database=42)  # type: ignore[arg-type]

    def test_unmapped_user_model(self, settings: UserKitSettings) -> None:
        class NotMapped:
            __table__ = None

        with pytest.raises(ConfigurationError, match="not a mapped"):
            include_user_router(FastAPI(), settings=settings, user_model=NotMapped)
