// Talking to the API: same origin, the HttpOnly cookie authenticates every call; every
// POST also sends back the CSRF token cookie as X-CSRF-Token (the API refuses it otherwise).

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

function detailOf(body) {
  if (typeof body === 'string') return body;
  const detail = body?.detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) return detail.map((item) => item.msg).join('; ');
  return JSON.stringify(body);
}

function toLogin() {
  const next = window.location.pathname + window.location.search;
  window.location.assign(`/login?next=${encodeURIComponent(next)}`);
}

async function request(url, options = {}) {
  const response = await fetch(url, { credentials: 'same-origin', ...options });
  if (response.status === 401) {
    toLogin();
    throw new ApiError(401, 'not logged in');
  }
  const json = (response.headers.get('content-type') || '').includes('json');
  const body = response.status === 204 ? null : json ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, detailOf(body));
  return body;
}

export function getJSON(url, signal) {
  return request(url, { signal });
}

/** The value of the script-readable ``wangge_csrf`` cookie the API set ('' if none). */
export function csrfToken() {
  const entry = document.cookie.split('; ').find((part) => part.startsWith('wangge_csrf='));
  return entry ? decodeURIComponent(entry.slice('wangge_csrf='.length)) : '';
}

export function postJSON(url, body) {
  return request(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
    body: JSON.stringify(body ?? {}),
  });
}

/** A JSON request with any method (PUT, DELETE, …), with the CSRF token and ``headers``. */
export function sendJSON(method, url, body, headers = {}) {
  return request(url, {
    method,
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken(), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export function postForm(url, formData, headers = {}) {
  return request(url, {
    method: 'POST', headers: { 'X-CSRF-Token': csrfToken(), ...headers }, body: formData,
  });
}

/** ``minx,miny,maxx,maxy`` of Leaflet bounds, clamped to valid WGS84. */
export function bboxParam(bounds) {
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));
  return [
    clamp(bounds.getWest(), 180),
    clamp(bounds.getSouth(), 90),
    clamp(bounds.getEast(), 180),
    clamp(bounds.getNorth(), 90),
  ]
    .map((value) => value.toFixed(6))
    .join(',');
}

export function isAbort(error) {
  return error?.name === 'AbortError';
}
