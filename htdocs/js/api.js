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

/* A site login in front of the app (mod_auth_form) answers an expired
 * session with a redirect to its login page, which fetch follows: go there. */
export function siteLoginPage(r) {
  var type = r.headers.get('Content-Type') || '';
  if (r.redirected && type.indexOf('application/json') < 0 && type.indexOf('text/event-stream') < 0) {
    location.href = r.url;
    return true;
  }
  return false;
}

/* The CSRF token rotates (apache mode, daily): a page open across two
 * rotations gets 403 "csrf" once, fetches the current token and retries. */
export function refreshCsrf() {
  return fetch('api/me', { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (me) { if (me && me.csrf) { S.csrf = me.csrf; return true; } return false; });
}

export function api(method, path, body, retried) {
  var opt = { method: method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (method !== 'GET') opt.headers['X-CSRF-Token'] = S.csrf;
  if (body !== undefined) { opt.headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
  return fetch(path, opt).then(function (r) {
    if (r.status === 401) { toLogin(); throw new ApiError('Your session has ended. Please log in again.', 401); }
    if (siteLoginPage(r)) throw new ApiError('Your session has ended. Please log in again.', 401);
    if (r.status === 204) return null;
    return r.json().catch(function () { return null; }).then(function (j) {
      if (r.status === 403 && !retried && j && j.error && j.error.code === 'csrf') {
        return refreshCsrf().then(function (ok) {
          if (!ok) throw new ApiError(errorText(j, r.status), r.status);
          return api(method, path, body, true);
        });
      }
      if (!r.ok) throw new ApiError(errorText(j, r.status), r.status);
      return j;
    });
  }, function () { throw new ApiError('The assistant\u2019s server cannot be reached. Check your connection and try again.', 0); });
}
