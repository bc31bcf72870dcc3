// The session and every call to the API. Tokens live in this module's memory only (never in localStorage or a
// cookie): a reload means logging in again. The access token is renewed with the refresh token shortly before
// it expires, or once after a 401.

const session = { access: null, refresh: null, expiresAt: 0, claims: null };
let refreshing = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

function decodeClaims(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
}

function keep(pair) {
  session.access = pair.access;
  session.refresh = pair.refresh;
  session.expiresAt = Date.now() + pair.expires_in * 1000;
  session.claims = decodeClaims(pair.access);
}

function forget() {
  session.access = session.refresh = session.claims = null;
  session.expiresAt = 0;
}

/** Called with no argument when the session ends (logout, refresh refused). */
export function onSessionEnd(listener) {
  listeners.add(listener);
}

export function currentUser() {
  return session.claims;
}

async function send(path, { method = "GET", body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export async function login(email, password) {
  const pair = await send("/api/auth/token", { method: "POST", body: { email, password } });
  const claims = decodeClaims(pair.access);
  if (!(claims.roles || []).includes("admin")) {
    // Not an operator: end the session we were given at once and keep nothing.
    await send("/api/auth/logout", { method: "POST", body: { refresh: pair.refresh } }).catch(() => {});
    throw new ApiError(403, { detail: "This account is not an operator account." });
  }
  keep(pair);
  return claims;
}

export async function logout() {
  const refresh = session.refresh;
  forget();
  if (refresh) await send("/api/auth/logout", { method: "POST", body: { refresh } }).catch(() => {});
  listeners.forEach((listener) => listener());
}

async function renew() {
  refreshing ??= send("/api/auth/token/refresh", { method: "POST", body: { refresh: session.refresh } })
    .then(keep)
    .catch((error) => {
      forget();
      listeners.forEach((listener) => listener());
      throw error;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** An authenticated call: `api("/api/stations")`, `api(path, {method: "PATCH", body})`. */
export async function api(path, options = {}) {
  if (!session.refresh) throw new ApiError(401, { detail: "Not logged in." });
  if (Date.now() > session.expiresAt - 30_000) await renew();
  try {
    return await send(path, { ...options, token: session.access });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    await renew();
    return send(path, { ...options, token: session.access });
  }
}

/** The path and query of a page link (`next`/`previous`), so that the request stays on this origin. */
export function pagePath(link) {
  if (!link) return null;
  const url = new URL(link, location.origin);
  return url.pathname + url.search;
}

/** Every item of a cursor-paginated list. */
export async function allPages(path) {
  const items = [];
  let next = path;
  while (next) {
    const page = await api(next);
    items.push(...page.results);
    next = pagePath(page.next);
  }
  return items;
}
