// --8<-- [start:helpers]
async function postJSON(path, body, accessToken) {
  const headers = { "Content-Type": "application/json" };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  const response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body ?? {}) });
  return { status: response.status, body: response.status === 204 ? null : await response.json() };
}
// --8<-- [end:helpers]

// --8<-- [start:add]
async function addPasskey(accessToken, name) {
  // needs a fresh login: within USERKIT_FRESH_MAX_AGE of the login or a re-authentication
  const offered = await postJSON("/auth/mfa/passkey-options", {}, accessToken);
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(offered.body.options);
  const credential = await navigator.credentials.create({ publicKey });
  return postJSON(
    "/auth/mfa/passkeys",
    { token: offered.body.token, credential: credential.toJSON(), name },
    accessToken,
  ); // 201: { passkey, recovery_codes } (the codes only with the first second factor)
}
// --8<-- [end:add]

// --8<-- [start:use]
async function passkeyAssertion() {
  const offered = await postJSON("/auth/passkey/options");
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(offered.body.options);
  const credential = await navigator.credentials.get({ publicKey });
  return { token: offered.body.token, credential: credential.toJSON() };
}

// The second step of a password login that answered 403 LOGIN_MFA_REQUIRED
async function finishLoginWithPasskey(mfaToken) {
  return postJSON("/auth/jwt/login/mfa", { mfa_token: mfaToken, passkey: await passkeyAssertion() });
}

// A login with the passkey alone: no address, no password
async function logInWithPasskey() {
  return postJSON("/auth/jwt/login/passkey", await passkeyAssertion());
}
// --8<-- [end:use]
