/* The text of an answer while it streams, before the module's rendering of
 * it arrives. Pure: no DOM, runs under node too.
 *
 * The module renders the answer every 100 ms or so (render events); the
 * tokens that came after the last rendering are shown as plain text after it
 * (the tail). Two rules keep that text honest: a leading ```json block (the
 * backend's metadata, which the module removes) is never shown, and the tail
 * keeps the white space the rendering dropped at its end, so words are not
 * glued together; a paragraph break in the tail starts a new block at once
 * instead of when the next rendering arrives. */

function isSpace(c) { return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v'; }

/* Where the displayed answer starts in raw: after a leading ```json {...}
 * ``` block and the white space after it (the module's rc_clean_display_offset),
 * or -1 while the text may still turn out to be such a block. */
export function displayStart(raw) {
  var i = 0, n = raw.length;
  while (i < n && isSpace(raw[i])) i++;
  var lead = i;
  if (n - i < 7) return '```json'.startsWith(raw.slice(i)) ? -1 : lead;
  if (raw.slice(i, i + 7) !== '```json') return lead;
  i += 7;
  while (i < n && isSpace(raw[i])) i++;
  if (i >= n) return -1;
  if (raw[i] !== '{') return lead;
  var open = i;
  var tick = raw.indexOf('`', open + 1);
  if (tick < 0) return -1;
  if (n - tick < 3) return '```'.startsWith(raw.slice(tick)) ? -1 : lead;
  if (raw.slice(tick, tick + 3) !== '```') return lead;
  var j = tick;
  while (j > open + 1 && isSpace(raw[j - 1])) j--;
  if (raw[j - 1] !== '}') return lead;
  i = tick + 3;
  while (i < n && isSpace(raw[i])) i++;
  return i;
}

/* What follows the rendered part of raw (raw[from...]): `inline`, the text
 * that continues the last rendered block (a space first when the rendering
 * ended on white space it dropped), and `rest`, what comes after a blank line
 * in it, shown as a block of its own (null when there is none). afterRender:
 * something was rendered before from. */
export function liveTail(raw, from, afterRender) {
  var text = raw.slice(from);
  var inline, rest = null;
  var m = /\n[ \t]*\n/.exec(text);
  if (m) {
    inline = text.slice(0, m.index);
    rest = text.slice(m.index + m[0].length).replace(/^\s+/, '');
  } else inline = text;
  inline = inline.replace(/\s+/g, ' ');
  if (!afterRender) inline = inline.replace(/^ /, '');
  else if (from > 0 && isSpace(raw[from - 1]) && inline && inline[0] !== ' ') inline = ' ' + inline;
  if (afterRender && m && !inline.trim()) inline = '';
  return { inline: inline, rest: rest };
}
