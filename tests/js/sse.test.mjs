// The browser's parser of the chat's text/event-stream (htdocs/js/sse.js), run
// under node: framing, line ends, fields, and bodies split at every place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from '../../htdocs/js/sse.js';

const utf8 = (s) => new TextEncoder().encode(s);

/* The events of a body given as chunks (strings or bytes), ended with end()
 * unless open is set. */
function parse(chunks, { open = false } = {}) {
  const out = [];
  const p = new SseParser((event, data) => out.push([event, data]));
  for (const c of chunks) {
    if (typeof c === 'string') p.pushBytes(utf8(c));
    else p.pushBytes(c);
  }
  if (!open) p.end();
  return out;
}

/* A stream shaped like the module's, with 2-, 3- and 4-byte UTF-8 characters. */
const STREAM = [
  ': comment first\n',
  'event: thread\n',
  'data: {"thread_id":"t1","user_step_id":"u1","assistant_step_id":"a1","thread_name":"Café","new_thread":true}\n',
  '\n',
  'event: token\ndata: {"t":"Caf\u00e9 \u20ac 5 \ud83d\ude00"}\n\n',
  'event: render\r\ndata: {"html":"<p>Caf\u00e9</p>"}\r\n\r\n',
  'event: token\rdata: {"t":"\u65e5\u672c"}\r\r',
  'event: done\n',
  'data: {"step_id":"a1",\n',
  'data: "content":"x"}\n',
  '\n',
].join('');

const STREAM_EVENTS = [
  ['thread', '{"thread_id":"t1","user_step_id":"u1","assistant_step_id":"a1","thread_name":"Café","new_thread":true}'],
  ['token', '{"t":"Caf\u00e9 \u20ac 5 \ud83d\ude00"}'],
  ['render', '{"html":"<p>Caf\u00e9</p>"}'],
  ['token', '{"t":"\u65e5\u672c"}'],
  ['done', '{"step_id":"a1",\n"content":"x"}'],
];

test('an event: its name and its data, dispatched at the blank line', () => {
  assert.deepEqual(parse(['event: token\ndata: {"t":"a"}\n\n']), [['token', '{"t":"a"}']]);
  assert.deepEqual(parse(['event: token\ndata: {"t":"a"}\n'], { open: true }), [], 'nothing before the blank line');
});

test('without an event line the name is "message"; the name does not carry over', () => {
  assert.deepEqual(parse(['data: a\n\nevent: x\ndata: b\n\ndata: c\n\n']),
    [['message', 'a'], ['x', 'b'], ['message', 'c']]);
});

test('several data lines are joined with a newline', () => {
  assert.deepEqual(parse(['event: done\ndata: one\ndata:\ndata: three\n\n']), [['done', 'one\n\nthree']]);
});

test('lines end with LF, CRLF or CR', () => {
  const want = [['a', '1'], ['b', '2']];
  assert.deepEqual(parse(['event: a\ndata: 1\n\nevent: b\ndata: 2\n\n']), want);
  assert.deepEqual(parse(['event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n']), want);
  assert.deepEqual(parse(['event: a\rdata: 1\r\revent: b\rdata: 2\r\r']), want);
  assert.deepEqual(parse(['event: a\r\ndata: 1\n\revent: b\rdata: 2\r\n\n']), want, 'mixed');
});

test('a CR at the end of a chunk waits: it may be the first half of a CRLF', () => {
  // were the CR taken as a whole line end, the LF after it would be a blank line
  // and "1" would go out alone
  assert.deepEqual(parse(['data: 1\r', '\ndata: 2\r\n\r\n']), [['message', '1\n2']]);
  assert.deepEqual(parse(['data: 1\r', '\r', '\n']), [['message', '1']]);
  assert.deepEqual(parse(['data: 1\r', '\r'], { open: true }), [], 'the second CR may be half a CRLF too');
  assert.deepEqual(parse(['data: 1\r', '\r']), [['message', '1']], 'and end() takes it as the blank line');
});

test('comments, unknown fields and lines without a value', () => {
  assert.deepEqual(parse([': ping\n\n:\ndata: a\n: inside\nid: 7\nretry: 100\nfoo: bar\n\n']), [['message', 'a']]);
  assert.deepEqual(parse(['data\n\n']), [['message', '']], 'a field without a colon has an empty value');
  assert.deepEqual(parse(['event\ndata: a\n\n']), [['message', 'a']], 'an empty event name is "message"');
});

test('one space after the colon is dropped, no more', () => {
  assert.deepEqual(parse(['data:a\n\ndata: a\n\ndata:  a \n\ndata:\ta\n\n']),
    [['message', 'a'], ['message', 'a'], ['message', ' a '], ['message', '\ta']]);
  assert.deepEqual(parse(['data: a: b\n\n']), [['message', 'a: b']], 'only the first colon separates');
});

test('an event with no data line is not dispatched', () => {
  assert.deepEqual(parse(['event: token\n\nevent: ping\n: x\n\n']), []);
  assert.deepEqual(parse(['event: token\n\ndata: a\n\n']), [['message', 'a']], 'and its name is forgotten');
});

test('unknown event names are passed on as they are', () => {
  assert.deepEqual(parse(['event: something-new\ndata: {}\n\nevent: Token\ndata: x\n\n']),
    [['something-new', '{}'], ['Token', 'x']]);
});

test('end(): a last event without its blank line is still dispatched, once', () => {
  assert.deepEqual(parse(['event: done\ndata: {"x":1}']), [['done', '{"x":1}']]);
  assert.deepEqual(parse(['event: done\ndata: {"x":1}\n']), [['done', '{"x":1}']]);
  assert.deepEqual(parse(['event: done\ndata: {"x":1}\r']), [['done', '{"x":1}']], 'a last lone CR ends the line');
  assert.deepEqual(parse(['event: done\ndata: {"x":1}\n\n']), [['done', '{"x":1}']], 'no second copy');
  assert.deepEqual(parse(['event: done\n']), [], 'no data: nothing');
  assert.deepEqual(parse([]), []);
});

test('the whole stream at once', () => {
  assert.deepEqual(parse([STREAM]), STREAM_EVENTS);
});

test('the stream split into two chunks at every byte, also inside UTF-8 characters', () => {
  const bytes = utf8(STREAM);
  for (let i = 0; i <= bytes.length; i++) {
    assert.deepEqual(parse([bytes.subarray(0, i), bytes.subarray(i)]), STREAM_EVENTS, 'split at byte ' + i);
  }
});

test('the stream one byte at a time, and in three chunks at every pair of places', () => {
  const bytes = utf8(STREAM);
  assert.deepEqual(parse([...bytes].map((b) => Uint8Array.of(b))), STREAM_EVENTS);
  for (let i = 0; i <= bytes.length; i += 3) {
    for (let j = i; j <= bytes.length; j += 5) {
      assert.deepEqual(parse([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]), STREAM_EVENTS,
        `split at ${i} and ${j}`);
    }
  }
});

test('events are dispatched as soon as their blank line arrives', () => {
  const out = [];
  const p = new SseParser((event, data) => out.push([event, data]));
  p.pushBytes(utf8('event: token\ndata: {"t":"a"}\n'));
  assert.equal(out.length, 0);
  p.pushBytes(utf8('\nevent: token\ndata: {"t":"b"}\n\nevent: tok'));
  assert.deepEqual(out, [['token', '{"t":"a"}'], ['token', '{"t":"b"}']]);
  p.pushBytes(utf8('en\ndata: {"t":"c"}\n\n'));
  assert.deepEqual(out[2], ['token', '{"t":"c"}']);
});

test('a character cut off by the end of the body, and invalid UTF-8, become U+FFFD', () => {
  const euro = utf8('\u20ac');
  assert.deepEqual(parse([utf8('data: a'), euro.subarray(0, 2)]), [['message', 'a\ufffd']]);
  assert.deepEqual(parse([Uint8Array.of(0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xff, 0x0a, 0x0a)]), [['message', '\ufffd']]);
});

test('push() takes text as well', () => {
  const out = [];
  const p = new SseParser((event, data) => out.push([event, data]));
  p.push('event: token\ndata: x\n', false);
  p.push('\n', false);
  assert.deepEqual(out, [['token', 'x']]);
});
