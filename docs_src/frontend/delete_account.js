async function deleteAccount(accessToken, currentPassword) {
  const response = await fetch("/users/me", {
    method: "DELETE",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ current_password: currentPassword }),
  });
  return response.status === 204;
}
