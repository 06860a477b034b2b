// The streamed answer's text before its rendering (htdocs/js/live.js), under
// node: the JSON preamble is never shown, words are never glued together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayStart, liveTail } from '../../htdocs/js/live.js';

test('a JSON preamble is hidden while it may still be one, and skipped when complete', () => {
  const full = '```json\n{"sources": ["a.pdf"]}\n```\n\nThe answer';
  for (let i = 0; i < full.indexOf('The'); i++) {
    const s = displayStart(full.slice(0, i));
    assert.ok(s === -1 || s === full.indexOf('The') || full.slice(s, i).trim() === '', `prefix ${i}: ${s}`);
  }
  assert.equal(displayStart(full), full.indexOf('The answer'));
  assert.equal(displayStart('  ```json {"a":1} ```Hi'), '  ```json {"a":1} ```'.length);
  // not a preamble: shown from the first non-space character
  assert.equal(displayStart('Hello'), 0);
  assert.equal(displayStart('\n  Hi'), 3);
  assert.equal(displayStart('```python\nx'), 0);
  assert.equal(displayStart('```json\n[1]\n```'), 0);
  assert.equal(displayStart('```json\n{"a":"`"}\n```\nB'), 0);
  // still undecided
  assert.equal(displayStart(''), -1);
  assert.equal(displayStart('``'), -1);
  assert.equal(displayStart('```json\n{"a": 1'), -1);
  assert.equal(displayStart('```json\n{"a": 1}\n`'), -1);
});

test('the tail keeps the white space the rendering dropped', () => {
  // "Hello " was rendered as <p>Hello</p>: "world" must not be glued to it
  assert.deepEqual(liveTail('Hello world', 6, true), { inline: ' world', rest: null });
  assert.deepEqual(liveTail('Hello world', 5, true), { inline: ' world', rest: null });
  assert.deepEqual(liveTail('Hello', 3, true), { inline: 'lo', rest: null });
  // before any rendering, leading white space is not shown
  assert.deepEqual(liveTail('  Hi there', 0, false), { inline: 'Hi there', rest: null });
  // line breaks inside a paragraph are spaces
  assert.deepEqual(liveTail('a b\nc', 1, true), { inline: ' b c', rest: null });
});

test('a paragraph break in the tail starts a block of its own', () => {
  assert.deepEqual(liveTail('One.\n\nTwo', 4, true), { inline: '', rest: 'Two' });
  assert.deepEqual(liveTail('One. more\n\n  Two\nthree', 4, true), { inline: ' more', rest: 'Two\nthree' });
  assert.deepEqual(liveTail('x\n \nnext', 1, true), { inline: '', rest: 'next' });
});
