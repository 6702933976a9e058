"""ASVS 4.0.3 V13.2.2 (and V5.1.1): the whole HTTP surface, fuzzed against its own
OpenAPI schema with Schemathesis, in process.

Every operation of a host app with every route group mounted (bearer and cookie
transport, verification, reset, e-mail change, sessions, deletion, administration,
roles, second factors, and host routes behind each kind of `kit.current_user()`) is
called with generated data (examples, boundary values, valid and invalid data) as an
anonymous client, as an unverified user with a bearer token, as a verified user with
cookies and the CSRF token, and as a superuser. Every answer must pass every Schemathesis check
that applies: no 5xx; only declared status codes, content types, headers and
bodies; valid data accepted and invalid data refused; authentication enforced; a
405 listing the methods the path serves; nothing usable after it is deleted. A
stateful run then chains operations along the links Schemathesis infers from the
schema (a registered or listed user's `id` into `/users/{id}`, a session's `id`
into `DELETE /auth/sessions/{session_id}`).

Cookies are put on each request explicitly, so the `Secure`, `__Host-` cookies of
the default settings are sent over the in-process `http://` transport as they are.

The run is reproducible: a fixed seed and a bounded number of examples per
operation. `USERKIT_FUZZ_EXAMPLES=<n>` raises the count and
`USERKIT_FUZZ_SEED=random` (or another number) changes the data;
docs/security/fuzzing.md has the command and the figures of a longer run.
"""

import asyncio
import contextlib
import os
from collections.abc import Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import seed, settings
from schemathesis.python.asgi import ASGIClient
from starlette.types import Receive, Scope, Send

from fastapi_userkit import UserKit, UserKitSettings, UserNotFoundError, include_user_router
from fastapi_userkit.db.default import UserKitBase
from fastapi_userkit.db.login_sessions import SessionBase
from fastapi_userkit.db.mfa import MfaBase
from fastapi_userkit.db.roles import RoleBase
from fastapi_userkit.schemas import TokenResponse
from tests.conftest import PASSWORD, SECRET

pytestmark = pytest.mark.single_pass

T = TypeVar("T")

#: Examples per operation and generation phase, and the seed of the data.
EXAMPLES = int(os.environ.get("USERKIT_FUZZ_EXAMPLES", "30"))
_SEED = os.environ.get("USERKIT_FUZZ_SEED", "1312")
SEED = int.from_bytes(os.urandom(8)) if _SEED == "random" else int(_SEED)
#: Who the cases act as. `user` is not verified (the verified-only host route
#: refuses it); `cookie-user` is, and sends its tokens as cookies with the CSRF
#: token, not as a bearer token.
ROLES = ("anonymous", "user", "cookie-user", "superuser")


@dataclass
class Fuzzed:
    """The host app under test, and a way to run the kit's coroutines on the
    event loop its lifespan runs on (Schemathesis's, in another thread).
    """

    app: FastAPI
    kit: UserKit[Any]
    loop: asyncio.AbstractEventLoop | None = None

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        with ASGIClient(SERVED):  # starts the lifespan if it is not running
            assert self.loop is not None
            return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=60)

    async def reset(self) -> None:
        """Empty the database but for a bystander account: someone else to find,
        change and delete.
        """
        async with self.kit.database.open() as uow:
            for metadata in (
                MfaBase.metadata,
                RoleBase.metadata,
                SessionBase.metadata,
                UserKitBase.metadata,
            ):
                for table in reversed(metadata.sorted_tables):
                    await uow.session.execute(table.delete())
            await uow.commit()
        await self.kit.users.create(email="bob@example.com", password=PASSWORD)


def build_app(database_url: str) -> Fuzzed:
    """A host app with every route group of the kit, both transports, and routes
    of its own behind each kind of `kit.current_user()`.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        fuzzed.loop = asyncio.get_running_loop()
        yield

    app = FastAPI(title="Fuzzed host", lifespan=lifespan)
    kit = include_user_router(
        app,
        settings=UserKitSettings(
            secret_key=SECRET,
            bcrypt_rounds=4,
            database_url=database_url,
            cookie_transport=True,
            mfa_enabled=True,
            # 429s would hide what a route does; the schema still declares them
            rate_limit_enabled=False,
        ),
    )
    fuzzed = Fuzzed(app, kit)

    @app.get("/host/profile")
    async def profile(user: kit.CurrentUser) -> dict[str, str]:  # type: ignore[name-defined]
        return {"email": user.email}

    @app.post("/host/notes", status_code=201)
    async def write_note(user: kit.VerifiedUser) -> dict[str, str]:  # type: ignore[name-defined]
        return {"author": user.email}

    @app.get("/host/audit")
    async def audit(user: kit.Superuser) -> dict[str, bool]:  # type: ignore[name-defined]
        return {"allowed": True}

    @app.get("/host/greeting")
    async def greeting(user: kit.OptionalUser) -> dict[str, str]:  # type: ignore[name-defined]
        return {"to": user.email if user is not None else "stranger"}

    return fuzzed


class Served:
    """The ASGI app Schemathesis calls. Its operations are collected at import,
    before a fixture builds the app under test in a temporary directory: this
    stand-in forwards every call (lifespan included) to that app.
    """

    target: FastAPI | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.target is not None, "no app under test"
        await self.target(scope, receive, send)


SERVED = Served()
#: The document of an app built like the one under test (nothing is started).
DOCUMENT = build_app("sqlite+aiosqlite://").app.openapi()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            # Every check runs, told the API's contract where it differs from their
            # defaults: a well-formed request may be refused with a 400 on grounds no
            # schema can state (a wrong token or current password, a password the
            # policy refuses, an address already taken), and that 400 must be declared
            # with its exact error codes, which status_code_conformance and
            # response_schema_conformance verify; an invalid request may be refused
            # with a 413 too, when it is larger than the kit reads at all.
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": [
                        "2xx",
                        "3xx",
                        "400",
                        "401",
                        "403",
                        "404",
                        "409",
                        "429",
                        "5xx",
                    ]
                },
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "406",
                        "409",
                        "413",
                        "415",
                        "422",
                        "428",
                        "429",
                        "5xx",
                    ]
                },
            },
        }
    ),
)
schema.app = SERVED


@dataclass
class Identity:
    """Who a role's cases act as: a live session of an account with the role's
    flags. The fuzzer may end the session (logout, a reused refresh token) or
    deactivate, demote or delete the account; the next case then gets a new
    session, of a new account if needed.
    """

    fuzzed: Fuzzed
    name: str
    superuser: bool = False
    verified: bool = True
    cookies: bool = False
    user_id: Any = None
    tokens: TokenResponse | None = None
    accounts: int = 0

    def forget(self) -> None:
        """Start again from no account (the database was emptied)."""
        self.user_id, self.tokens, self.accounts = None, None, 0

    def sign_in(self) -> TokenResponse:
        if self.tokens is None or not self._usable(self.tokens):
            self.tokens = self.fuzzed.run(self._new_session())
        return self.tokens

    def _usable(self, tokens: TokenResponse) -> bool:
        with ASGIClient(SERVED) as client:
            me = client.get("/users/me", headers={"Authorization": f"Bearer {tokens.access_token}"})
        if me.status_code != 200:
            return False
        user = me.json()
        return bool(
            user["is_active"]
            and user["is_superuser"] == self.superuser
            and user["is_verified"] == self.verified
        )

    async def _new_session(self) -> TokenResponse:
        users = self.fuzzed.kit.users
        user = None
        if self.user_id is not None:
            with contextlib.suppress(UserNotFoundError):
                user = await users.get(self.user_id)
        if (
            user is None
            or not user.is_active
            or user.is_superuser != self.superuser
            or user.is_verified != self.verified
        ):
            self.accounts += 1
            user = await users.create(
                email=f"{self.name}-{self.accounts}@example.com",
                password=PASSWORD,
                is_superuser=self.superuser,
                is_verified=self.verified,
            )
            self.user_id = user.id
        return await users.open_session(user.id)

    def credentials(self, tokens: TokenResponse) -> tuple[dict[str, str], dict[str, str]]:
        """The headers and cookies that sign a request in with *tokens*."""
        if not self.cookies:
            return {"Authorization": f"Bearer {tokens.access_token}"}, {}
        cookies = {
            "__Host-userkit_access": tokens.access_token,
            "__Host-userkit_refresh": tokens.refresh_token,
            "__Host-userkit_csrf": "fuzz-csrf",
        }
        return {"X-CSRF-Token": "fuzz-csrf"}, cookies


class Acting:
    """The identity the cases of the running test act as (`None`: anonymous)."""

    identity: Identity | None = None


ACTING = Acting()


@schema.auth(refresh_interval=None, retry_on=[])
class SignedIn:
    """Signs each case in as `ACTING.identity`, or leaves it anonymous."""

    def get(self, case: Any, context: Any) -> TokenResponse | None:
        identity = ACTING.identity
        return identity.sign_in() if identity is not None else None

    def set(self, case: Any, data: TokenResponse, context: Any) -> None:
        assert ACTING.identity is not None
        headers, cookies = ACTING.identity.credentials(data)
        case.headers = {**(case.headers or {}), **headers}
        case.cookies = {**(case.cookies or {}), **cookies}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    database = tmp_path_factory.mktemp("fuzz") / "userkit.db"
    app_under_test = build_app(f"sqlite+aiosqlite:///{database}")
    assert app_under_test.app.openapi() == DOCUMENT
    SERVED.target = app_under_test.app
    app_under_test.run(app_under_test.reset())
    yield app_under_test
    SERVED.target = None


@pytest.fixture(scope="module", params=ROLES)
def role(request: pytest.FixtureRequest, fuzzed: Fuzzed) -> Iterator[str]:
    name = request.param
    if name != "anonymous":
        identity = Identity(
            fuzzed,
            name,
            superuser=name == "superuser",
            verified=name != "user",
            cookies=name == "cookie-user",
        )
        headers, cookies = identity.credentials(identity.sign_in())
        with ASGIClient(SERVED) as client:  # the cases will be signed in
            assert client.get("/users/me", headers=headers, cookies=cookies).status_code == 200
        ACTING.identity = identity
    yield name
    ACTING.identity = None


def excluded_checks(role: str) -> list[Any]:
    """The checks that cannot apply to *role*'s cases.

    `ignored_auth` probes a signed-in request again without its credentials; it can
    take off the access cookie (an `apiKey` scheme) but not a bearer token (an
    `oauth2` scheme, whose header Schemathesis does not model), so for the bearer
    roles the probe would carry the token still and read its 200 as authentication
    ignored. The anonymous role (nothing sent: a 401 everywhere) and the cookie role
    (whose cookie the probe does remove) check that authentication is enforced.
    """
    identity = ACTING.identity
    if identity is not None and not identity.cookies:
        return [schemathesis.checks.ignored_auth]
    return []


@schema.parametrize()
def test_v13_2_2_every_answer_conforms_to_the_schema(case: Any, role: str) -> None:
    try:
        case.call_and_validate(excluded_checks=excluded_checks(role))
    except Exception as error:
        error.add_note(f"as {role}, USERKIT_FUZZ_SEED={SEED}")
        raise


def test_v13_2_2_chained_operations_conform_to_the_schema(role: str, fuzzed: Fuzzed) -> None:
    excluded = excluded_checks(role)

    class Chained(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario starts from the same state: Hypothesis replays and
            # varies scenarios, and a link is followed only if the answers match.
            fuzzed.run(fuzzed.reset())
            if ACTING.identity is not None:
                ACTING.identity.forget()

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=excluded,
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    try:
        seed(SEED)(Chained).run(
            settings=settings(
                Chained.TestCase.settings, max_examples=EXAMPLES * 4, stateful_step_count=6
            )
        )
    except Exception as error:
        error.add_note(f"as {role}, USERKIT_FUZZ_SEED={SEED}")
        raise
