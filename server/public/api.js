// The REST calls the page makes. Every error comes back as ApiError with the envelope's code and
// message ({"success": false, "error": {"code", "message"}}), or code "network" when fetch failed.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function request(method, path, bearer, body, extraHeaders = {}) {
  const headers = { accept: 'application/json', authorization: `Bearer ${bearer}`, ...extraHeaders };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached');
  }
  if (res.status === 204) return null;
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const error = json && typeof json === 'object' ? json.error : null;
    const message = error && typeof error.message === 'string' ? error.message : `${method} ${path} failed (${res.status})`;
    throw new ApiError(res.status, error && typeof error.code === 'string' ? error.code : 'http_error', message);
  }
  return json;
}

const enc = encodeURIComponent;

/** The calls a signed-in user makes with their token. */
export function userApi(token, userId) {
  return {
    feed: (limit = 100) => request('GET', `/api/v1/users/${enc(userId)}/notifications?limit=${limit}`, token),
    setStatus: (id, status, extra = {}) => request('PATCH', `/api/v1/notifications/${enc(id)}`, token, { status, ...extra }),
    readAll: () => request('POST', `/api/v1/users/${enc(userId)}/notifications/read-all`, token, {}),
    apps: () => request('GET', `/api/v1/users/${enc(userId)}/apps`, token),
    uninstall: (appId) => request('DELETE', `/api/v1/users/${enc(userId)}/apps/${enc(appId)}`, token),
    preferences: () => request('GET', `/api/v1/users/${enc(userId)}/preferences`, token),
    /** A JSON Merge Patch, applied only if the stored document is still at `revision` (else 412). */
    patchPreferences: (patch, revision) =>
      request('PATCH', `/api/v1/users/${enc(userId)}/preferences`, token, patch, { 'if-match': `"${revision}"` }),
  };
}

/** The dev panel posts as the demo app with its API key. */
export function sendAsApp(apiKey, appId, notification) {
  return request('POST', `/api/v1/apps/${enc(appId)}/notifications`, apiKey, notification);
}

/** Small JSON documents served by the page route; null when absent (e.g. /dev-config.json in production). */
export async function getJson(path) {
  try {
    const res = await fetch(path, { cache: 'no-store' });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

/** The claims of a JWT, read without verifying (the server verifies); null when it is not one. */
export function readTokenClaims(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(parts[1].length / 4) * 4, '='));
    const claims = JSON.parse(json);
    return claims && typeof claims.sub === 'string' ? claims : null;
  } catch {
    return null;
  }
}
