"""ASVS 4.0.3 V7.1.3, V7.1.4, V7.2.1 and V7.2.2: every security decision emits one
structured record on `fastapi_userkit.security` and one `on_security_event` call,
with identifiers an investigation can join on and nothing secret.
"""

import logging
from typing import Any

import pytest

from fastapi_userkit import SecurityEvent, SecurityEventName, UserKitHooks
from fastapi_userkit.events import log_security_event
from tests.conftest import PASSWORD, Host
from tests.security._mail import Outbox

NEW_PASSWORD = "another-horse-battery-7"
WRONG_PASSWORD = "not-the-password-at-all-3"
FIELDS = ("event", "outcome", "user_id", "client_ip", "session_id", "actor_id", "reason")


class Recorder(UserKitHooks):
    def __init__(self) -> None:
        self.events: list[SecurityEvent] = []

    async def on_security_event(self, event: SecurityEvent, request: Any = None) -> None:
        self.events.append(event)


class Flows:
    """A host with a recording hook, an outbox and the log records of one test."""

    def __init__(self, host: Host, hooks: Recorder, outbox: Outbox, caplog: Any) -> None:
        self.host, self.hooks, self.outbox, self.caplog = host, hooks, outbox, caplog
        self.client = host.client

    def take(self) -> list[SecurityEvent]:
        """The events since the last call, checked against the log records."""
        events, self.hooks.events = self.hooks.events, []
        records = [r for r in self.caplog.records if r.name == "fastapi_userkit.security"]
        self.caplog.clear()
        assert [(r.event, r.outcome) for r in records] == [
            (e.event.value, e.outcome) for e in events
        ]
        for record, event in zip(records, events, strict=True):
            fields = event.fields()
            assert {name: getattr(record, name) for name in FIELDS} == {
                name: fields[name] for name in FIELDS
            }
            level = logging.INFO if event.outcome == "success" else logging.WARNING
            assert record.levelno == level
        return events

    def one(self, event: SecurityEventName, outcome: str = "success") -> SecurityEvent:
        events = self.take()
        assert [(e.event, e.outcome) for e in events] == [(event, outcome)], events
        return events[0]


@pytest.fixture
async def flows(make_host: Any, make_settings: Any, caplog: pytest.LogCaptureFixture) -> Flows:
    caplog.set_level(logging.INFO, logger="fastapi_userkit.security")
    hooks, outbox = Recorder(), Outbox()
    host = await make_host(
        settings=make_settings(frontend_url="https://app.example"),
        hooks=hooks,
        email_sender=outbox,
    )
    return Flows(host, hooks, outbox, caplog)


async def _login(f: Flows, password: str = PASSWORD) -> dict[str, Any]:
    form = {"username": "alice@example.com", "password": password}
    response = await f.client.post("/auth/jwt/login", data=form)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_v7_2_1_every_authentication_decision_is_logged(flows: Flows) -> None:
    f = flows
    assert (await f.host.register()).status_code == 201
    alice = f.one(SecurityEventName.REGISTER)
    assert alice.user_id is not None and alice.client_ip == "127.0.0.1"

    form = {"username": "alice@example.com", "password": WRONG_PASSWORD}
    assert (await f.client.post("/auth/jwt/login", data=form)).status_code == 400
    failed = f.one(SecurityEventName.LOGIN, "failure")
    assert (failed.user_id, failed.reason) == (alice.user_id, "invalid_credentials")

    unknown = {"username": "nobody@example.com", "password": WRONG_PASSWORD}
    assert (await f.client.post("/auth/jwt/login", data=unknown)).status_code == 400
    failed = f.one(SecurityEventName.LOGIN, "failure")
    assert (failed.user_id, failed.reason) == (None, "invalid_credentials")

    tokens = await _login(f)
    login = f.one(SecurityEventName.LOGIN)
    assert login.user_id == alice.user_id and login.session_id is not None
    me = {"Authorization": f"Bearer {tokens['access_token']}"}

    wrong = {"current_password": WRONG_PASSWORD, "new_password": NEW_PASSWORD}
    assert (await f.client.post("/users/me/password", headers=me, json=wrong)).status_code == 400
    check = f.one(SecurityEventName.REAUTHENTICATION, "failure")
    assert (check.user_id, check.reason) == (alice.user_id, "wrong_password")

    right = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (await f.client.post("/users/me/password", headers=me, json=right)).status_code < 300
    change = f.one(SecurityEventName.PASSWORD_CHANGE)
    assert (change.user_id, change.session_id) == (alice.user_id, login.session_id)


async def test_v7_2_1_lockout_and_refused_logins_are_logged(
    make_host: Any, make_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fastapi_userkit.security")
    hooks = Recorder()
    host = await make_host(settings=make_settings(rate_limit_login_account_ip="2/900"), hooks=hooks)
    f = Flows(host, hooks, Outbox(), caplog)
    await host.register()
    f.take()
    form = {"username": "alice@example.com", "password": WRONG_PASSWORD}
    assert (await f.client.post("/auth/jwt/login", data=form)).status_code == 400
    f.one(SecurityEventName.LOGIN, "failure")
    assert (await f.client.post("/auth/jwt/login", data=form)).status_code == 400
    lockout, failed = f.take()  # the counter fills as the attempt is counted
    assert (failed.event, failed.reason) == (SecurityEventName.LOGIN, "invalid_credentials")
    assert (lockout.event, lockout.outcome) == (SecurityEventName.LOCKOUT, "failure")
    assert lockout.reason == "login:acct-ip" and lockout.client_ip == "127.0.0.1"
    assert (await f.client.post("/auth/jwt/login", data=form)).status_code == 429
    assert f.one(SecurityEventName.LOGIN, "failure").reason == "rate_limited"


async def test_v7_1_3_session_events_are_logged(flows: Flows) -> None:
    f = flows
    await f.host.register()
    first = await _login(f)
    first_id = f.take()[-1].session_id
    second = await _login(f)
    second_id = f.one(SecurityEventName.LOGIN).session_id

    refresh = {"refresh_token": first["refresh_token"]}
    assert (await f.client.post("/auth/jwt/refresh", json=refresh)).status_code == 200
    assert f.take() == []
    assert (await f.client.post("/auth/jwt/refresh", json=refresh)).status_code == 401
    reuse = f.one(SecurityEventName.REFRESH_TOKEN_REUSE, "failure")
    assert reuse.session_id == first_id and reuse.user_id is not None

    me = {"Authorization": f"Bearer {second['access_token']}"}
    await _login(f)
    third_id = f.one(SecurityEventName.LOGIN).session_id
    response = await f.client.delete(f"/auth/sessions/{third_id}", headers=me)
    assert response.status_code == 204
    assert f.one(SecurityEventName.SESSION_REVOKE).session_id == third_id
    assert (await f.client.post("/auth/jwt/logout", headers=me)).status_code == 204
    assert f.one(SecurityEventName.LOGOUT).session_id == second_id

    fourth = await _login(f)
    f.take()
    me = {"Authorization": f"Bearer {fourth['access_token']}"}
    assert (await f.client.post("/auth/jwt/logout-all", headers=me)).status_code == 204
    assert f.one(SecurityEventName.LOGOUT_ALL).user_id == reuse.user_id


async def test_v7_1_3_account_recovery_and_address_events_are_logged(flows: Flows) -> None:
    f = flows
    await f.host.register()
    alice = f.take()[0].user_id

    email = {"email": "alice@example.com"}
    assert (await f.client.post("/auth/request-verify-token", json=email)).status_code == 202
    assert f.one(SecurityEventName.VERIFICATION_REQUEST).user_id == alice
    bad = {"token": "not-a-token"}
    assert (await f.client.post("/auth/verify", json=bad)).status_code == 400
    assert f.one(SecurityEventName.VERIFICATION, "failure").reason == "bad_token"
    verify = {"token": f.outbox.tokens()[-1]}
    assert (await f.client.post("/auth/verify", json=verify)).status_code == 200
    assert f.one(SecurityEventName.VERIFICATION).user_id == alice

    assert (await f.client.post("/auth/forgot-password", json=email)).status_code == 202
    assert f.one(SecurityEventName.PASSWORD_RESET_REQUEST).user_id == alice
    unknown = {"email": "nobody@example.com"}
    assert (await f.client.post("/auth/forgot-password", json=unknown)).status_code == 202
    assert f.take() == []  # nothing was sent, so nothing was requested of an account
    reset = {"token": "not-a-token", "password": NEW_PASSWORD}
    assert (await f.client.post("/auth/reset-password", json=reset)).status_code == 400
    assert f.one(SecurityEventName.PASSWORD_RESET, "failure").reason == "bad_token"
    reset["token"] = f.outbox.tokens()[-1]
    assert (await f.client.post("/auth/reset-password", json=reset)).status_code == 200
    assert f.one(SecurityEventName.PASSWORD_RESET).user_id == alice

    tokens = await _login(f, NEW_PASSWORD)
    f.take()
    me = {"Authorization": f"Bearer {tokens['access_token']}"}
    change = {"current_password": NEW_PASSWORD, "new_email": "alice2@example.com"}
    assert (await f.client.post("/users/me/email", headers=me, json=change)).status_code == 202
    assert f.one(SecurityEventName.EMAIL_CHANGE_REQUEST).user_id == alice
    confirm = {"token": f.outbox.tokens()[-1]}
    response = await f.client.post("/users/me/email/confirm", json=confirm)
    assert response.status_code == 200, response.text
    assert f.one(SecurityEventName.EMAIL_CHANGE).user_id == alice


async def test_v7_2_2_failed_access_control_decisions_and_admin_actions_are_logged(
    flows: Flows,
) -> None:
    f = flows
    await f.host.register()
    alice = f.take()[0].user_id
    me = {"Authorization": f"Bearer {await f.host.login()}"}
    alice_session = f.take()[0].session_id
    assert (await f.client.get("/users", headers=me)).status_code == 403
    denied = f.one(SecurityEventName.ACCESS_DENIED, "failure")
    assert (denied.user_id, denied.session_id, denied.reason) == (
        alice,
        alice_session,
        "scope:users:admin",
    )

    admin = await f.host.kit.users.create(
        email="root@example.com", password=PASSWORD, is_superuser=True
    )
    f.take()
    root = {"Authorization": f"Bearer {await f.host.login('root@example.com')}"}
    f.take()
    patch = {"is_active": False, "password": NEW_PASSWORD}
    assert (await f.client.patch(f"/users/{alice}", headers=root, json=patch)).status_code == 200
    update = f.one(SecurityEventName.ADMIN_UPDATE)
    assert (update.user_id, update.actor_id, update.reason) == (
        alice,
        str(admin.id),
        "is_active,password",
    )
    assert (await f.client.delete(f"/users/{alice}", headers=root)).status_code == 204
    deletion = f.one(SecurityEventName.ACCOUNT_DELETE)
    assert (deletion.user_id, deletion.actor_id) == (alice, str(admin.id))

    bob = await f.host.kit.users.create(email="bob@example.com", password=PASSWORD)
    f.take()
    await f.host.kit.users.deactivate(bob.id)
    operator = f.one(SecurityEventName.ADMIN_UPDATE)
    assert (operator.user_id, operator.client_ip, operator.reason) == (
        str(bob.id),
        None,
        "is_active",
    )


async def test_v7_1_4_a_failing_hook_loses_no_record(
    make_host: Any, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(UserKitHooks):
        async def on_security_event(self, event: SecurityEvent, request: Any = None) -> None:
            raise RuntimeError("the audit sink is down")

    caplog.set_level(logging.INFO, logger="fastapi_userkit")
    host = await make_host(hooks=Broken())
    assert (await host.register()).status_code == 201
    assert await host.login()
    names = [r.event for r in caplog.records if r.name == "fastapi_userkit.security"]
    assert names == ["register", "login"]
    assert sum("on_security_event" in r.getMessage() for r in caplog.records) == 2


def test_v7_1_4_the_record_reads_as_one_line_of_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="fastapi_userkit.security")
    log_security_event(
        SecurityEvent(
            SecurityEventName.LOGIN, "failure", user_id="7", client_ip="10.0.0.1", reason="x"
        )
    )
    (record,) = caplog.records
    assert record.getMessage().startswith(
        "security event login outcome=failure user_id=7 client_ip=10.0.0.1 reason=x event_at="
    )
