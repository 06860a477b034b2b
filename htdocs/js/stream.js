/* The answer being streamed: a new question, a regenerated answer or an
 * edited question (POST api/chat), painted live (the module's renderings,
 * and the tokens after the last one as text: live.js), stopped with the
 * Stop button or Escape, retried after a failure. The message box stays
 * focused meanwhile (read-only) so the next question can follow at once. */
import { $, E, icon, enc, log, ta } from './dom.js';
import { S } from './state.js';
import { api, errorText, toLogin, siteLoginPage, refreshCsrf } from './api.js';
import { SseParser } from './sse.js';
import { displayStart, liveTail } from './live.js';
import { morph } from './render.js';
import { toast, notice, updateSend } from './ui.js';
import { adoptThread, forgetThread } from './threads.js';
import { userMsg, setUserActs, assistantShell, setActs, setSources, badge, markLatest,
  nearBottom, toBottom, openThread } from './messages.js';

var BLOCKY = /^(P|LI|UL|OL|TABLE|THEAD|TBODY|TR|TD|TH|PRE|CODE|BLOCKQUOTE|DIV|H[1-6])$/;
var placeholder = '';

function setBusy(busy) {
  /* read-only, not disabled: the box keeps the focus */
  ta.readOnly = busy;
  if (busy) { placeholder = ta.placeholder; ta.placeholder = 'Answering\u2026 Esc stops the answer'; }
  else if (placeholder) ta.placeholder = placeholder;
  $('send').hidden = busy;
  $('stop').hidden = !busy;
  $('stop').disabled = false;
  $('attach').disabled = busy;
  if (!busy) { updateSend(); ta.focus(); }
}

export function abortStream() {
  var st = S.stream;
  if (!st) return;
  st.aborted = true;
  try { st.ctrl.abort(); } catch (e) { /* already over */ }
  S.stream = null;
  setBusy(false);
}

function liveParts(m) {
  var md = m.querySelector('.md');
  var tail = document.createTextNode('');
  var rest = E('p', 'live-rest');
  var cursor = E('span', 'cursor');
  cursor.setAttribute('aria-hidden', 'true');
  return { md: md, tail: tail, rest: rest, cursor: cursor };
}

function clearLive(p) {
  p.tail.remove();
  p.rest.remove();
  p.cursor.remove();
}

/* The rendering so far, then the tokens after it (live.js): the text grows
 * where it will stay, and never gets shorter. */
function paintLive(st) {
  st.raf = 0;
  var stick = nearBottom();
  var p = st.parts;
  if (st.htmlDirty) {
    st.htmlDirty = false;
    clearLive(p);
    morph(p.md, st.html);
  }
  var from = st.html ? st.renderedLen : displayStart(st.raw);
  var tail = from < 0 ? { inline: '', rest: null } : liveTail(st.raw, from, !!st.html);
  p.rest.remove();
  /* the end of the deepest last block */
  var target = p.md;
  while (target.lastElementChild && BLOCKY.test(target.lastElementChild.tagName)) target = target.lastElementChild;
  if (target.classList && target.classList.contains('code-wrap')) target = target.querySelector('code') || target;
  p.tail.data = tail.inline;
  if (p.tail.parentNode !== target || target.lastChild !== p.tail) target.appendChild(p.tail);
  if (tail.rest) {
    p.rest.textContent = tail.rest;
    p.md.appendChild(p.rest);
    p.rest.appendChild(p.cursor);
  } else p.tail.after(p.cursor);
  var th = st.msg.querySelector('.thinking');
  if (th && (st.html || tail.inline || tail.rest)) th.remove();
  if (stick) toBottom();
}
function schedulePaint(st) {
  if (!st.raf) st.raf = requestAnimationFrame(function () { if (!st.ended) paintLive(st); });
}

/* A new question, or (opts.edit) a new version of a question. */
export function send(content, opts) {
  if (S.stream || !content) return;
  opts = opts || {};
  if (log.querySelector('.welcome')) log.textContent = '';
  var um = userMsg(content);
  log.appendChild(um);
  var body = { thread_id: S.threadId, content: content };
  if (opts.edit) body.edit = opts.edit;
  start(body, um, { content: content, userVersions: opts.edit ? opts.versions : null });
}

/* A new version of an answer: its question again, with the history before it. */
export function regenerate(m) {
  var id = m.dataset.step;
  if (S.stream || !id || !S.threadId) return;
  var info = S.steps.get(id) || {};
  var um = m.previousElementSibling;
  while (m.nextElementSibling) m.nextElementSibling.remove();
  m.remove();
  start({ thread_id: S.threadId, regenerate: id }, um && um.classList.contains('user') ? um : null,
    { regenerate: id, answerVersions: info.versions || [id] });
}

function start(body, um, opts) {
  var m = assistantShell(true);
  m.setAttribute('aria-busy', 'true');
  var th = E('div', 'thinking');
  th.setAttribute('role', 'img');
  th.setAttribute('aria-label', 'The assistant is thinking');
  th.append(E('i'), E('i'), E('i'));
  m.querySelector('.md').after(th);
  log.appendChild(m);
  markLatest();
  toBottom();
  var st = {
    ctrl: new AbortController(), msg: m, user: um, body: body, opts: opts, parts: liveParts(m),
    raw: '', html: '', renderedLen: 0, htmlDirty: false, raf: 0, stepId: null, threadSeen: false, ended: false
  };
  S.stream = st;
  setBusy(true);
  var parser = new SseParser(function (ev, data) { onSse(st, ev, data); });
  fetch('api/chat', {
    method: 'POST', credentials: 'same-origin', signal: st.ctrl.signal,
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', 'X-CSRF-Token': S.csrf },
    body: JSON.stringify(body)
  }).then(function (r) {
    if (siteLoginPage(r)) return;
    if (!r.ok) {
      if (r.status === 401) toLogin();
      return r.json().catch(function () { return null; }).then(function (j) {
        if (r.status === 403 && j && j.error && j.error.code === 'csrf') {
          /* the page outlived its token: take the current one, the user resends */
          return refreshCsrf().then(function () {
            failStream(st, 'This page was open a long time and the message was not sent. Please send it again.', 'http');
          });
        }
        /* the module saved the question and the failed answer: Retry regenerates it */
        if (j && j.assistant_step_id) seen(st, j);
        failStream(st, errorText(j, r.status), 'http');
      });
    }
    if (!r.body) return failStream(st, 'This browser cannot read streamed answers. Use a current browser.', 'http');
    var reader = r.body.getReader();
    function pump() {
      return reader.read().then(function (x) {
        if (x.done) { parser.end(); return; }
        parser.pushBytes(x.value);
        if (st.ended) { reader.cancel().catch(function () {}); return; }
        return pump();
      });
    }
    return pump().then(function () {
      if (!st.ended && !st.aborted) failStream(st, 'The connection was lost before the answer was complete.', 'lost');
    });
  }).catch(function (e) {
    if (st.aborted || st.ended) return;
    failStream(st, e && e.name === 'AbortError' ? 'The answer was cancelled.' : 'The connection was lost before the answer was complete.', 'lost');
  });
}

/* The ids the module gave the question and the answer. */
function seen(st, d) {
  st.threadSeen = true;
  st.stepId = d.assistant_step_id || null;
  if (d.thread_id && d.thread_id !== S.threadId) {
    adoptThread(d.thread_id, d.thread_name || (st.body.content || '').replace(/\s+/g, ' ').trim());
  }
  if (st.user && d.user_step_id && !st.opts.regenerate) {
    var uv = st.opts.userVersions;
    setUserActs(st.user, d.user_step_id, uv ? uv.concat(d.user_step_id) : null);
  }
}

/* The question was not saved (nor its answer): Retry asks it again, and a
 * thread made for it goes. */
function forgetUnsaved(st) {
  if (st.threadSeen && !st.body.thread_id && S.threadId) forgetThread(S.threadId);
  st.threadSeen = false;
  st.stepId = null;
}

function onSse(st, ev, data) {
  if (st.ended || st.aborted) return;
  var d;
  try { d = data ? JSON.parse(data) : {}; } catch (e) { return; }
  if (ev === 'thread') {
    seen(st, d);
  } else if (ev === 'token') {
    if (typeof d.t === 'string') { st.raw += d.t; schedulePaint(st); }
  } else if (ev === 'render') {
    /* it renders every token sent before it */
    if (typeof d.html === 'string') { st.html = d.html; st.renderedLen = st.raw.length; st.htmlDirty = true; schedulePaint(st); }
  } else if (ev === 'done') {
    finishStream(st, d);
  } else if (ev === 'error') {
    if (d.code === 'not_saved') forgetUnsaved(st);
    failStream(st, d.message || 'The assistant failed while answering. Try again.', 'error');
  }
}

function endLive(st) {
  st.ended = true;
  if (st.raf) { cancelAnimationFrame(st.raf); st.raf = 0; }
  clearTimeout(st.stopTimer);
  var m = st.msg;
  m.classList.remove('live');
  m.setAttribute('aria-busy', 'false');
  var th = m.querySelector('.thinking');
  if (th) th.remove();
  st.parts.cursor.remove();
  if (S.stream === st) { S.stream = null; setBusy(false); }
}

function visibleText(st) {
  var from = displayStart(st.raw);
  return from < 0 ? '' : st.raw.slice(from);
}

function finishStream(st, d) {
  endLive(st);
  var m = st.msg, md = st.parts.md;
  clearLive(st.parts);
  if (typeof d.html === 'string') morph(md, d.html);
  else if (st.html) morph(md, st.html);
  else md.textContent = d.content || visibleText(st);
  var id = d.step_id || st.stepId;
  if (id) {
    S.steps.set(id, { output: d.content != null ? d.content : visibleText(st), feedback: null });
    var av = st.opts.answerVersions;
    setActs(m, id, av ? av.concat(id) : null);
  }
  setSources(m, d.sources);
  if (d.stopped) badge(m, 'Stopped');
  markLatest();
  if (nearBottom()) toBottom();
}

function failStream(st, message, kind) {
  if (st.ended) return;
  /* keep what came, as the server does */
  if (st.raf || st.htmlDirty) paintLive(st);
  endLive(st);
  var m = st.msg, md = st.parts.md;
  var shown = !!(st.html || visibleText(st));
  if (!shown) md.remove();
  else if (st.parts.rest.parentNode) st.parts.rest.after(st.parts.cursor);
  var n = notice(message, true);
  if (kind === 'lost' && st.threadSeen) {
    var b = E('button', 'btn btn-small');
    b.type = 'button';
    b.dataset.act = 'reload';
    b.append(icon('retry'), document.createTextNode('Reload the chat'));
    n.lastElementChild.before(b);
    n.querySelector('.text').textContent = message + ' The server keeps the answer: reload the chat to see it.';
  }
  m.lastElementChild.appendChild(n);
  m.dataset.saved = st.threadSeen && st.stepId ? '1' : '';
  if (st.stepId && st.threadSeen) {
    m.dataset.step = st.stepId;
    S.steps.set(st.stepId, { output: visibleText(st), feedback: null, versions: st.opts.answerVersions ? st.opts.answerVersions.concat(st.stepId) : null });
  }
  m.retry = st;
  if (nearBottom()) toBottom();
}

/* Stop (the button, or Escape): the answer ends with what came. */
export function stopStream() {
  var st = S.stream;
  if (!st) return;
  $('stop').disabled = true;
  if (!st.stepId) { st.aborted = true; st.ctrl.abort(); endLive(st); badge(st.msg, 'Stopped'); clearLive(st.parts); return; }
  api('POST', 'api/chat/' + enc(st.stepId) + '/stop').catch(function (e) { toast(e.message); });
  /* the stream ends with `done` (stopped: true); if it does not, stop reading */
  st.stopTimer = setTimeout(function () {
    if (st.ended) return;
    st.aborted = true;
    st.ctrl.abort();
    endLive(st);
    var id = S.threadId;
    if (id) openThread(id);
  }, 8000);
}

/* Retry after a failure: a saved failed answer is regenerated (a new version
 * beside it); one the module never saved is asked again. */
export function retry(m) {
  var st = m.retry;
  if (S.stream || !st) return;
  if (m.dataset.saved && st.stepId) { regenerate(m); return; }
  while (m.nextElementSibling) m.nextElementSibling.remove();
  m.remove();
  if (st.opts.regenerate) { start(st.body, st.user, st.opts); return; }
  if (st.user) st.user.remove();
  if (st.body.content) send(st.body.content, st.body.edit ? { edit: st.body.edit, versions: st.opts.userVersions } : null);
}
