from fastapi_userkit.testing import create_user_and_headers


async def test_orders(client, kit):
    user, headers = await create_user_and_headers(kit, email="ann@example.com")
    response = await client.get("/orders", headers=headers)
    assert response.status_code == 200
    assert user.is_verified  # the default of create_user_and_headers()
