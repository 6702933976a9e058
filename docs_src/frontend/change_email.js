async function requestEmailChange(accessToken, currentPassword, newEmail) {
  const response = await fetch("/users/me/email", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ current_password: currentPassword, new_email: newEmail }),
  });
  if (response.status === 202) return { ok: true };
  const body = response.status === 400 ? await response.json() : {};
  return { ok: false, status: response.status, code: body.detail };
}

// On the confirmation page:
async function confirmEmailChange() {
  const token = new URLSearchParams(location.search).get("token");
  const response = await fetch("/users/me/email/confirm", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token }),
  });
  if (response.ok) return { ok: true, user: await response.json() };
  const body = response.status === 400 ? await response.json() : {};
  return { ok: false, code: body.detail || "EMAIL_CHANGE_BAD_TOKEN" };
}
