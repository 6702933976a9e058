# ruff: noqa: RUF001, RUF002 - look-alike characters are what this module tests
"""Which addresses name one account, which only look alike, and which are refused:
attacks through the HTTP API on the account key (IDNA domains, no case folding),
look-alike accounts (UTS #39 skeletons) and address syntax (RFC 5321)."""

from typing import Any

import pytest

from fastapi_userkit import UserNotFoundError, canonical_email, email_skeleton
from tests.conftest import PASSWORD, Host
from tests.test_lifecycle import Outbox


async def bearer(h: Host, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await h.login(email)}"}


class TestDistinctDomainsStayDistinct:
    """Case folding mapped `ß` to `ss` and `ς` to `σ`: two different domains shared
    one account key, and the first registrant blocked the other."""

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("x@aßets.example", "x@assets.example"),
            ("x@σοφιας.example", "x@σοφιασ.example"),
        ],
    )
    async def test_both_domains_can_register(self, host: Host, first: str, second: str) -> None:
        assert (await host.register(first)).status_code == 201
        assert (await host.register(second)).status_code == 201
        assert await host.login(first) != await host.login(second)

    async def test_the_punycode_spelling_is_the_same_account(self, host: Host) -> None:
        assert (await host.register("x@aßets.example")).status_code == 201
        again = await host.register("x@xn--aets-vna.example")
        assert again.json() == {"detail": "REGISTER_USER_ALREADY_EXISTS"}
        assert await host.login("X@AßETS.example")

    async def test_switching_to_the_other_domain_needs_a_new_verification(self, host: Host) -> None:
        await host.kit.users.create(email="x@aßets.example", password=PASSWORD, is_verified=True)
        r = await host.client.patch(
            "/users/me",
            json={"email": "x@assets.example", "current_password": PASSWORD},
            headers=await bearer(host, "x@aßets.example"),
        )
        assert r.status_code == 200
        assert r.json()["email"] == "x@assets.example"
        assert r.json()["is_verified"] is False

    async def test_local_parts_are_lower_cased_not_case_folded(self, host: Host) -> None:
        assert (await host.register("Straße@example.com")).status_code == 201
        assert (await host.register("strasse@example.com")).status_code == 201
        taken = await host.register("STRAẞE@example.com")  # capital sharp s
        assert taken.json() == {"detail": "REGISTER_USER_ALREADY_EXISTS"}
        taken = await host.register("ＳＴＲＡＳＳＥ@example.com")  # full width
        assert taken.json() == {"detail": "REGISTER_USER_ALREADY_EXISTS"}

    def test_the_key(self) -> None:
        assert canonical_email("Alice@Example.COM") == "alice@example.com"
        assert canonical_email("x@AßETS.Example") == "x@aßets.example"
        assert canonical_email("x@xn--aets-vna.example") == "x@aßets.example"
        assert canonical_email("Straße@x.org") != canonical_email("strasse@x.org")
        assert canonical_email("ａｌｉｃｅ@x.org") == "alice@x.org"


LOOK_ALIKES = [
    pytest.param("al\u0131ce@x-corp.com", id="dotless-i"),
    pytest.param("\u0430lice@x-corp.com", id="cyrillic-a"),
    pytest.param("alic\u0065\u0301@x-corp.com", id="combining-accent"),
    pytest.param("ali\u0307ce@x-corp.com", id="combining-dot-on-i"),
    pytest.param("alice@x-c\u043erp.com", id="cyrillic-o-in-domain"),
]


class TestLookAlikeAccounts:
    """With `alice@x-corp.com` registered, a dotless ı, a Cyrillic а or a combining
    accent each created a second account that reads the same."""

    @pytest.mark.parametrize("look_alike", LOOK_ALIKES)
    async def test_registration_is_refused(self, host: Host, look_alike: str) -> None:
        assert (await host.register("alice@x-corp.com")).status_code == 201
        r = await host.register(look_alike)
        assert (r.status_code, r.json()) == (400, {"detail": "REGISTER_EMAIL_LOOKALIKE"})
        assert email_skeleton(look_alike) == email_skeleton("alice@x-corp.com")

    async def test_invisible_characters_are_refused_too(self, host: Host) -> None:
        assert (await host.register("alice@x-corp.com")).status_code == 201
        r = await host.register("ali\u200dce@x-corp.com")  # zero-width joiner
        assert r.status_code in (400, 422)
        assert email_skeleton("ali\u200dce@x-corp.com") == email_skeleton("alice@x-corp.com")

    @pytest.mark.parametrize("look_alike", LOOK_ALIKES[:2])
    async def test_moving_an_account_there_is_refused(self, host: Host, look_alike: str) -> None:
        assert (await host.register("alice@x-corp.com")).status_code == 201
        headers = await host.headers("mallory@evil.example")
        r = await host.client.patch(
            "/users/me", json={"email": look_alike, "current_password": PASSWORD}, headers=headers
        )
        assert r.json() == {"detail": "UPDATE_USER_EMAIL_LOOKALIKE"}
        r = await host.client.post(
            "/users/me/email",
            json={"new_email": look_alike, "current_password": PASSWORD},
            headers=headers,
        )
        assert r.json() == {"detail": "UPDATE_USER_EMAIL_LOOKALIKE"}

    async def test_a_look_alike_registered_between_request_and_confirmation(
        self, make_host: Any, make_settings: Any
    ) -> None:
        outbox = Outbox()
        h: Host = await make_host(
            settings=make_settings(frontend_url="https://app.example.com"), email_sender=outbox
        )
        headers = await h.headers("mallory@evil.example")
        await h.client.post(
            "/users/me/email",
            json={"new_email": "\u0430lice@x-corp.com", "current_password": PASSWORD},
            headers=headers,
        )
        assert (await h.register("alice@x-corp.com")).status_code == 201
        token = outbox.token("\u0430lice@x-corp.com")
        r = await h.client.post("/users/me/email/confirm", json={"token": token})
        assert r.json() == {"detail": "UPDATE_USER_EMAIL_LOOKALIKE"}

    async def test_the_same_account_may_change_its_own_spelling(self, host: Host) -> None:
        headers = await host.headers("alice@x-corp.com")
        r = await host.client.patch(
            "/users/me",
            json={"email": "Alice@x-corp.com", "current_password": PASSWORD},
            headers=headers,
        )
        assert r.status_code == 200

    async def test_with_prevent_enumeration_the_answer_is_the_same_and_nothing_is_created(
        self, make_host: Any, make_settings: Any
    ) -> None:
        outbox = Outbox()
        h: Host = await make_host(
            settings=make_settings(prevent_enumeration=True), email_sender=outbox
        )
        assert (await h.register("alice@x-corp.com")).status_code == 202
        r = await h.register("al\u0131ce@x-corp.com")
        assert (r.status_code, r.content) == (202, b"null")
        with pytest.raises(UserNotFoundError):
            await h.kit.users.get_by_email("al\u0131ce@x-corp.com")

    async def test_distinct_but_similar_addresses_are_still_allowed(self, host: Host) -> None:
        for email in ("alice@x-corp.com", "alice2@x-corp.com", "alice@x-corp.org", "alicia@x.com"):
            assert (await host.register(email)).status_code == 201, email


class TestAddressSyntax:
    """RFC 5321 allows 64 octets before the @; a display-name form was stored as
    the bare address instead of being refused."""

    @pytest.mark.parametrize(
        "email",
        [
            pytest.param("a" * 65 + "@example.com", id="65-char-local-part"),
            pytest.param("é" * 33 + "@example.com", id="66-octet-local-part"),
            pytest.param("Eve <eve@example.com>", id="display-name"),
            pytest.param("<eve@example.com>", id="angle-brackets"),
            pytest.param('"Eve" <eve@example.com>', id="quoted-display-name"),
        ],
    )
    @pytest.mark.parametrize(
        ("path", "field"),
        [("/auth/register", "email"), ("/auth/forgot-password", "email")],
    )
    async def test_refused_with_422(self, host: Host, email: str, path: str, field: str) -> None:
        body: dict[str, Any] = {field: email}
        if path == "/auth/register":
            body["password"] = PASSWORD
        r = await host.client.post(path, json=body)
        assert r.status_code == 422, r.text

    async def test_a_64_char_local_part_is_fine(self, host: Host) -> None:
        assert (await host.register("a" * 64 + "@example.com")).status_code == 201

    async def test_display_names_are_refused_everywhere(self, host: Host) -> None:
        headers = await host.headers()
        for path, body in [
            ("/users/me/email", {"new_email": "Eve <eve@example.com>"}),
            ("/users/me", {"email": "Eve <eve@example.com>"}),
        ]:
            method = host.client.patch if path == "/users/me" else host.client.post
            r = await method(path, json={**body, "current_password": PASSWORD}, headers=headers)
            assert r.status_code == 422, (path, r.text)
        with pytest.raises(ValueError, match="without a name"):
            await host.kit.users.create(email="Eve <eve@example.com>", password=PASSWORD)
