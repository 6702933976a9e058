async function requestVerification(email) {
  const response = await fetch("/auth/request-verify-token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email }),
  });
  return response.status === 202;
}

// On the verification page:
async function verify() {
  const token = new URLSearchParams(location.search).get("token");
  const response = await fetch("/auth/verify", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token }),
  });
  if (response.ok) return "verified";
  const body = response.status === 400 ? await response.json() : {};
  return body.detail === "VERIFY_USER_ALREADY_VERIFIED" ? "verified" : "expired";
}
