// The words a failed request shows (htdocs/js/api.js errorText), under node:
// a message for people with what to do, never a library's text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorText } from '../../htdocs/js/api.js';

const err = (code, message) => ({ error: { code, message } });

test("the assistant's failures are worded by the module: shown as they are", () => {
  const m = 'The assistant is not reachable right now. Try again in a minute.';
  assert.equal(errorText(err('backend_error', m), 502), m);
  assert.equal(errorText(err('backend_timeout', 'The assistant did not answer in time. Try again in a minute.'), 504),
    'The assistant did not answer in time. Try again in a minute.');
  assert.equal(errorText(err('unsupported_type', 'a.exe: this type is not accepted'), 415), 'a.exe: this type is not accepted');
});

test('server trouble reads as such, with what to do', () => {
  assert.equal(errorText(err('database', 'the database is unavailable'), 503),
    'The chat cannot reach its storage right now. Try again in a minute.');
  assert.match(errorText(err('no_memory', 'apr_palloc failed'), 500), /^Something went wrong on the server \(error 500\)\. Try again/);
  assert.match(errorText(null, 502), /not reachable right now\. Try again in a minute\./);
  assert.match(errorText(null, 429), /wait a moment and try again/);
  for (const s of [500, 501, 502, 503, 504]) assert.doesNotMatch(errorText(err('x', 'Transferred a partial file'), s), /partial file/);
});
