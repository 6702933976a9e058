"""The kit's routes as Swagger UI shows them: human summaries, stable operation ids,
and a login form whose prefilled values work."""

from typing import Any

import pytest

from tests.conftest import Host

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

KIT_PATHS = ("/auth/", "/users")


async def _operations(host: Host) -> list[tuple[str, str, dict[str, Any]]]:
    schema = (await host.client.get("/openapi.json")).json()
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith(KIT_PATHS)
        for method, operation in item.items()
    ]


async def test_every_kit_operation_has_a_summary_description_and_stable_id(
    make_host: Any, make_settings: Any
) -> None:
    h: Host = await make_host(settings=make_settings(cookie_transport=True))
    operations = await _operations(h)
    assert len(operations) >= 24
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations:
        assert ":" not in operation["summary"], (path, method, operation["summary"])
        assert operation["summary"][0].isupper()
        assert operation["description"], (path, method)
        assert operation["operationId"].replace("_", "").isalpha(), operation["operationId"]
    by_id = {operation["operationId"]: (path, method) for path, method, operation in operations}
    assert by_id["login"] == ("/auth/jwt/login", "post")
    assert by_id["get_me"] == ("/users/me", "get")
    assert by_id["cookie_login"] == ("/auth/cookie/login", "post")


async def test_the_prefilled_login_form_and_registration_work(host: Host) -> None:
    schema = (await host.client.get("/openapi.json")).json()
    register = schema["paths"]["/auth/register"]["post"]["requestBody"]["content"]
    ref = register["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    (example,) = schema["components"]["schemas"][ref]["examples"]
    assert (await host.client.post("/auth/register", json=example)).status_code == 201

    login = schema["paths"]["/auth/jwt/login"]["post"]["requestBody"]["content"]
    form = login["application/x-www-form-urlencoded"]["schema"]
    assert "oneOf" not in form  # Swagger UI renders one flat object as form fields
    prefilled = {
        name: field["example"] for name, field in form["properties"].items() if field.get("example")
    }
    prefilled["grant_type"] = form["properties"]["grant_type"]["default"]
    answer = await host.client.post("/auth/jwt/login", data=prefilled)
    assert answer.status_code == 200, answer.text
