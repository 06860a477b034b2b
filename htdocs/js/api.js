/* Requests to B/api: JSON in and out, the CSRF header, errors as ApiError
 * with a message to show. Paths are relative to the page (B/). */
import { S } from './state.js';

export function ApiError(message, status) { this.message = message; this.status = status; }

/* Words for people, with what to do: the module's message when it has one
 * for users (the assistant's failures are worded so), never a library's. */
export function errorText(j, status) {
  var code = j && j.error && j.error.code;
  if (code === 'database') return 'The chat cannot reach its storage right now. Try again in a minute.';
  if (j && j.error && j.error.message && status < 500) return j.error.message;
  if (code && /^backend_/.test(code) && j.error.message) return j.error.message;
  if (status === 413) return 'The upload is too large.';
  if (status === 415) return 'This file type is not accepted.';
  if (status === 429) return 'Too many requests. Please wait a moment and try again.';
  if (status === 502 || status === 504) return 'The assistant is not reachable right now. Try again in a minute.';
  if (status === 503) return 'The chat is not available right now. Try again in a minute.';
  return 'Something went wrong on the server (error ' + status + '). Try again; if it keeps happening, tell the site\'s administrator.';
}

export function toLogin() {
  if (S.me && S.me.auth === 'apache') { location.reload(); return; }
  location.href = 'login';
}

export function api(method, path, body) {
  var opt = { method: method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (method !== 'GET') opt.headers['X-CSRF-Token'] = S.csrf;
  if (body !== undefined) { opt.headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
  return fetch(path, opt).then(function (r) {
    if (r.status === 401) { toLogin(); throw new ApiError('Your session has ended. Please log in again.', 401); }
    if (r.status === 204) return null;
    return r.json().catch(function () { return null; }).then(function (j) {
      if (!r.ok) throw new ApiError(errorText(j, r.status), r.status);
      return j;
    });
  }, function () { throw new ApiError('The server cannot be reached. Check your connection.', 0); });
}
