// Talking to the API from the phone: the bearer token kept in IndexedDB (no cookie, so no
// CSRF exposure), JSON in and out, and errors that say whether a retry may help.
import * as idb from './idb.js';

let token = null;
let onLoggedOut = () => {};

export class ApiError extends Error {
  constructor(status, detail, retryAfter = null) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  /** Worth sending again later: the server failed, or the same request is still running. */
  get transient() {
    return this.status >= 500 || this.status === 429 || (this.status === 409 && this.retryAfter !== null);
  }
}

/** A network failure (offline, link broken) rather than an answer. */
export function isNetworkError(error) {
  return !(error instanceof ApiError);
}

export async function loadSession() {
  token = (await idb.get('kv', 'token')) || null;
  return token ? idb.get('kv', 'user') : null;
}

export async function saveSession(newToken, user) {
  token = newToken;
  await idb.put('kv', newToken, 'token');
  await idb.put('kv', user, 'user');
}

export async function dropSession() {
  token = null;
  await idb.remove('kv', 'token');
}

export function whenLoggedOut(listener) {
  onLoggedOut = listener;
}

export function authHeaders() {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function detailOf(body) {
  if (typeof body === 'string') return body;
  const detail = body?.detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) return detail.map((item) => item.msg).join('; ');
  return JSON.stringify(body);
}

/** ``fetch`` with the token; ``json`` is sent as the body, ``key`` as Idempotency-Key. */
export async function api(url, { method = 'GET', json, body, headers = {}, key } = {}) {
  const sent = { ...authHeaders(), ...headers };
  if (json !== undefined) {
    sent['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  if (key) sent['Idempotency-Key'] = key;
  const response = await fetch(url, { method, headers: sent, body, credentials: 'omit', cache: 'no-store' });
  const isJson = (response.headers.get('content-type') || '').includes('json');
  const parsed = response.status === 204 ? null : isJson ? await response.json() : await response.text();
  if (response.status === 401 && token) {
    await dropSession();
    onLoggedOut();
  }
  if (!response.ok) throw new ApiError(response.status, detailOf(parsed), response.headers.get('Retry-After'));
  return parsed;
}

/** A random key (crypto.randomUUID needs HTTPS; getRandomValues works on any intranet). */
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `m-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}
