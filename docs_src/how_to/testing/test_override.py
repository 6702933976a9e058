from myapp.main import app

from fastapi_userkit.testing import override_current_user


async def test_orders_without_a_token(client, kit):
    user = await kit.users.create(email="bob@example.com", password="a long passphrase")
    with override_current_user(app, kit, user):
        response = await client.get("/orders")  # no Authorization header needed
    assert response.status_code == 200
    # leaving the block removes the override
    assert (await client.get("/orders")).status_code == 401
