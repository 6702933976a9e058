// A single-page app on fastapi-userkit's cookie transport, served from another origin
// than the API. The tokens stay in HttpOnly cookies the page never sees; the page reads
// only the CSRF cookie, and repeats it in the X-CSRF-Token header of unsafe requests.
"use strict";

const API = String((window.SPA_CONFIG || {}).apiBase || "http://127.0.0.1:8000").replace(
  /\/+$/,
  "",
);
// "__Host-userkit_csrf" when the API keeps its default USERKIT_COOKIE_SECURE=true (https)
const CSRF_COOKIE = "userkit_csrf";

const byId = (id) => document.getElementById(id);

// --8<-- [start:client]
// Read right before each request: every login and refresh sets a new token.
function csrfToken() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith(CSRF_COOKIE + "="));
  return cookie ? cookie.slice(CSRF_COOKIE.length + 1) : "";
}

// The API is on another origin: send and accept its cookies.
function call(path, options = {}) {
  return fetch(API + path, { ...options, credentials: "include" });
}

function post(path, options = {}) {
  const headers = { ...options.headers, "X-CSRF-Token": csrfToken() };
  return call(path, { ...options, method: "POST", headers });
}

// One refresh at a time: the same refresh cookie sent twice counts as reuse and ends
// the session.
let refreshing = null;
function refresh() {
  refreshing ??= post("/auth/cookie/refresh").finally(() => {
    refreshing = null;
  });
  return refreshing;
}

// --8<-- [end:client]

async function reason(response) {
  try {
    const body = await response.clone().json();
    return typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

function say(text) {
  byId("status").textContent = text;
}

function show(email) {
  const identity = byId("identity");
  if (email) {
    const shown = document.createElement("strong");
    shown.id = "user-email";
    shown.textContent = email;
    identity.replaceChildren("Logged in as ", shown);
  } else {
    identity.replaceChildren("Not logged in.");
  }
  byId("session-actions").hidden = !email;
  byId("login-form").hidden = Boolean(email);
  document.body.dataset.state = email ? "logged-in" : "logged-out";
}

// Show who is logged in; an expired access cookie is refreshed once.
async function whoAmI() {
  let response = await call("/users/me");
  if (response.status === 401 && csrfToken() && (await refresh()).status === 204) {
    response = await call("/users/me");
  }
  if (!response.ok) {
    show(null);
    return false;
  }
  show((await response.json()).email);
  return true;
}

function unreachable(error) {
  return `No answer from the API at ${API} (is it running, and is this page's origin in its SPA_ORIGINS?): ${error.message}`;
}

// Show any network error (API down, CORS refused) in the status line.
function guarded(action) {
  return async (event) => {
    event.preventDefault();
    try {
      await action();
    } catch (error) {
      say(unreachable(error));
    }
  };
}

byId("login-form").addEventListener(
  "submit",
  guarded(async () => {
    say("Logging in…");
    const form = new URLSearchParams({
      username: byId("email").value,
      password: byId("password").value,
    });
    const response = await call("/auth/cookie/login", { method: "POST", body: form });
    if (response.status !== 204) {
      say(`Login failed: ${await reason(response)}`);
      return;
    }
    byId("password").value = "";
    say((await whoAmI()) ? "Logged in." : "Logged in, but GET /users/me failed.");
  }),
);

byId("refresh").addEventListener(
  "click",
  guarded(async () => {
    say("Refreshing…");
    const response = await refresh();
    if (response.status !== 204) {
      say(`Refresh failed: ${await reason(response)}`);
      await whoAmI();
      return;
    }
    say((await whoAmI()) ? "Session refreshed." : "Refreshed, but GET /users/me failed.");
  }),
);

byId("logout").addEventListener(
  "click",
  guarded(async () => {
    say("Logging out…");
    let response = await post("/auth/cookie/logout");
    if (response.status === 401 && (await refresh()).status === 204) {
      response = await post("/auth/cookie/logout"); // the access cookie had expired
    }
    if (response.status !== 204) {
      say(`Logout failed: ${await reason(response)}`);
      return;
    }
    show(null);
    say("Logged out.");
  }),
);

whoAmI().catch((error) => {
  show(null);
  say(unreachable(error));
});
