// The HTTP API client: JSON in and out (or a FormData body for a file
// upload), RFC 9457 problems turned into ApiError, versions carried as
// If-Match and read back from ETag.

/** ApiError is a failed request: status 0 means the server was unreachable. */
export class ApiError extends Error {
  constructor(status, problem, headers) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.headers = headers;
  }

  /** fields maps a request field to what is wrong with it (422, 400). */
  get fields() {
    return this.problem.fields || {};
  }

  /** current is the resource as it stands now (412). */
  get current() {
    return this.problem.current;
  }

  /** retryAfter is the Retry-After delay in seconds (429, 503), or 0. */
  get retryAfter() {
    const v = Number.parseInt(this.headers?.get('Retry-After') ?? '', 10);
    return Number.isFinite(v) ? v : 0;
  }

  /** message for a person: the problem's title and detail. */
  get summary() {
    const { title, detail } = this.problem;
    if (title && detail && title !== detail) return `${title}. ${detail}`;
    return title || detail || `Error ${this.status}`;
  }
}

let bearer = '';
let unauthorizedHandler = null;

/**
 * useToken makes every request send Authorization: Bearer (wall displays)
 * instead of the session cookie.
 */
export function useToken(token) {
  bearer = token || '';
}

/** onUnauthorized registers what to do when a request answers 401. */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

/** parseETag turns "3" (or W/"3") into 3; null when absent. */
export function parseETag(header) {
  if (!header) return null;
  const n = Number.parseInt(header.replace(/^W\//, '').replaceAll('"', ''), 10);
  return Number.isFinite(n) ? n : null;
}

async function readBody(res) {
  if (res.status === 204 || res.status === 304) return null;
  const text = await res.text();
  if (!text) return null;
  if ((res.headers.get('Content-Type') || '').includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * request sends one API request. body is JSON-encoded, except a FormData,
 * which goes as multipart/form-data (the browser sets its boundary); ifMatch is the
 * version the change is based on. It resolves to {status, data, etag} and
 * rejects with an ApiError.
 */
export async function request(method, path, { body, ifMatch, signal } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  if (ifMatch !== undefined && ifMatch !== null) headers['If-Match'] = `"${ifMatch}"`;
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined || form ? body : JSON.stringify(body),
      credentials: bearer ? 'omit' : 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, {
      title: 'Sin conexión con el servidor',
      detail: 'No se pudo contactar a Vigía; revise la red e intente de nuevo.',
    });
  }
  const data = await readBody(res).catch(() => null);
  if (!res.ok) {
    const problem = data && typeof data === 'object'
      ? data
      : { title: `Error ${res.status}`, detail: typeof data === 'string' ? data.slice(0, 300) : '' };
    const err = new ApiError(res.status, problem, res.headers);
    if (res.status === 401 && unauthorizedHandler && path !== '/api/auth/login') unauthorizedHandler(err);
    throw err;
  }
  return { status: res.status, data, etag: parseETag(res.headers.get('ETag')) };
}

export const api = {
  get: (path, opts) => request('GET', path, opts),
  post: (path, body, opts = {}) => request('POST', path, { ...opts, body }),
  patch: (path, body, opts = {}) => request('PATCH', path, { ...opts, body }),
};
