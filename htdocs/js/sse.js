/* The browser's reader of the chat's text/event-stream, parsed by hand from a
 * fetch() body (EventSource cannot POST). Pure: no DOM, runs under node too.
 *
 *   var p = new SseParser(function (event, data) { ... });
 *   p.pushBytes(chunk);   // each Uint8Array of the body, split anywhere (UTF-8 too)
 *   p.end();              // the body is over
 *
 * Lines end with LF, CRLF or CR; a blank line dispatches the event (its `event:`
 * name, or "message") with its `data:` lines joined by "\n"; one space after the
 * colon is dropped; lines starting with ':' are comments; other fields are
 * ignored, and an event with no `data:` line is not dispatched. Unlike EventSource, end()
 * still dispatches a last event that lacks its blank line. */
export function SseParser(onEvent) {
  var buf = '', ev = '', data = [], hasData = false;
  var dec = new TextDecoder();

  /* Text of the stream; final: nothing follows, so a trailing CR ends its line. */
  this.push = function (chunk, final) {
    buf += chunk;
    var start = 0;
    for (;;) {
      var i = buf.slice(start).search(/[\r\n]/);
      if (i < 0) break;
      i += start;
      if (buf[i] === '\r' && i + 1 === buf.length && !final) break;   /* maybe half a CRLF */
      var line = buf.slice(start, i);
      start = i + (buf[i] === '\r' && buf[i + 1] === '\n' ? 2 : 1);
      if (line === '') {
        if (hasData) onEvent(ev || 'message', data.join('\n'));
        ev = ''; data = []; hasData = false;
        continue;
      }
      if (line[0] === ':') continue;
      var c = line.indexOf(':');
      var field = c < 0 ? line : line.slice(0, c);
      var value = c < 0 ? '' : line.slice(c + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'event') ev = value;
      else if (field === 'data') { data.push(value); hasData = true; }
    }
    buf = buf.slice(start);
  };

  /* Bytes of the stream, UTF-8: a character split between chunks waits for its end. */
  this.pushBytes = function (bytes) {
    this.push(dec.decode(bytes, { stream: true }), false);
  };

  /* The end of the stream: what the decoder held, then the last event if it is
   * still open. */
  this.end = function () {
    this.push(dec.decode(), true);
    this.push('\n\n', true);
  };
}
