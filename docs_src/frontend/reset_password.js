async function forgotPassword(email) {
  const response = await fetch("/auth/forgot-password", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email }),
  });
  if (response.status === 202) return { ok: true };
  if (response.status === 429) {
    return { ok: false, retryAfter: Number(response.headers.get("Retry-After")) };
  }
  return { ok: false };
}

async function resetPassword(token, password) {
  const response = await fetch("/auth/reset-password", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token, password }),
  });
  if (response.ok) return { ok: true };
  const detail = response.status === 400 ? (await response.json()).detail : null;
  if (detail && detail.code === "RESET_PASSWORD_INVALID_PASSWORD") {
    return { ok: false, reasons: detail.reason };
  }
  return { ok: false, expired: true }; // ask for a new link
}
