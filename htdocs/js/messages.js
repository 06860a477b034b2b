/* The conversation: messages as the module rendered them, the streamed answer
 * (live rendering, stop, retry), feedback, copy, per-answer exports, and
 * opening a thread or a new chat. Security rule: answers are inserted only
 * from the module's rendered `html`; everything else as text. */
import { $, E, icon, iconBtn, enc, fmtSize, app, log, ta } from './dom.js';
import { S } from './state.js';
import { api, errorText, toLogin, siteLoginPage, refreshCsrf } from './api.js';
import { SseParser } from './sse.js';
import { toast, copyText, flashCopied, toggleMenu, closeMenu, notice, isMobile, setDrawer, updateSend } from './ui.js';
import { markActive, setThreadName, adoptThread } from './threads.js';

var actsProto, codeCopyProto;
function buildProtos() {
  actsProto = E('div', 'acts');
  var pdf = E('a', 'btn btn-small pdf-main');
  pdf.setAttribute('download', '');
  pdf.append(icon('pdf'), document.createTextNode('Download PDF'));
  var wrap = E('div', 'menu-wrap more-wrap');
  var more = iconBtn('more', 'More actions', 'more');
  more.setAttribute('aria-haspopup', 'menu');
  more.setAttribute('aria-expanded', 'false');
  var menu = E('div', 'menu');
  menu.setAttribute('role', 'menu');
  menu.hidden = true;
  var mpdf = E('a', 'pdf-in-menu'), mmd = E('a', 'md-in-menu');
  mpdf.setAttribute('role', 'menuitem'); mmd.setAttribute('role', 'menuitem');
  mpdf.setAttribute('download', ''); mmd.setAttribute('download', '');
  mpdf.append(icon('pdf'), document.createTextNode('Download PDF'));
  mmd.append(icon('file'), document.createTextNode('Download Markdown'));
  menu.append(mpdf, mmd);
  wrap.append(more, menu);
  var up = iconBtn('up', 'Good answer', 'up'), down = iconBtn('down', 'Bad answer', 'up');
  down.firstElementChild.classList.add('i-down-thumb');
  up.setAttribute('aria-pressed', 'false'); down.setAttribute('aria-pressed', 'false');
  actsProto.append(iconBtn('copy', 'Copy the answer', 'copy'), up, down, wrap, pdf);
  codeCopyProto = E('button', 'code-copy');
  codeCopyProto.type = 'button';
  codeCopyProto.dataset.act = 'copy-code';
  codeCopyProto.setAttribute('aria-label', 'Copy the code');
  codeCopyProto.append(icon('copy'), document.createTextNode('Copy'));
}

var BLOCKY = /^(P|LI|UL|OL|TABLE|THEAD|TBODY|TR|TD|TH|PRE|CODE|BLOCKQUOTE|DIV|H[1-6])$/;
function enhance(md) {
  md.querySelectorAll('pre').forEach(function (pre) {
    if (pre.parentNode.classList.contains('code-wrap')) return;
    var w = E('div', 'code-wrap');
    pre.replaceWith(w);
    w.append(pre, codeCopyProto.cloneNode(true));
  });
  md.querySelectorAll('table').forEach(function (t) {
    if (t.parentNode.classList.contains('table-wrap')) return;
    var w = E('div', 'table-wrap');
    t.replaceWith(w);
    w.appendChild(t);
  });
  md.querySelectorAll('a[href]').forEach(function (a) {
    if (/^https?:/i.test(a.getAttribute('href'))) { a.target = '_blank'; a.rel = 'noopener noreferrer'; }
  });
}

export function fileChip(f, removable, index) {
  var c = E('span', 'file-chip');
  c.append(icon('doc'), E('span', 'name', f.name || 'file'));
  if (f.size != null && f.size !== '') c.appendChild(E('span', 'size', fmtSize(f.size)));
  c.title = f.name || '';
  if (removable) {
    var b = iconBtn('remove-file', 'Remove ' + (f.name || 'file'), 'x');
    b.dataset.index = index;
    c.appendChild(b);
  }
  return c;
}

export function userMsg(text, id, files) {
  var m = E('div', 'msg user');
  if (id) m.dataset.step = id;
  var col = E('div', 'col');
  if (files && files.length) {
    var fl = E('div', 'files');
    files.forEach(function (f) { fl.appendChild(fileChip(f)); });
    col.appendChild(fl);
  }
  if (text && (!files || !files.length || !isFileListText(text, files))) col.appendChild(E('div', 'bubble', text));
  m.appendChild(col);
  return m;
}
/* An upload's user step may just list its files: the chips already say it. */
function isFileListText(text, files) {
  var t = text.trim();
  return files.every(function (f) { return t.indexOf(f.name) >= 0; }) && t.length < 40 + files.reduce(function (n, f) { return n + f.name.length + 4; }, 0);
}

function assistantShell(live) {
  var m = E('div', 'msg assistant' + (live ? ' live' : ''));
  var av = E('span', 'avatar avatar-bot', ((S.me && S.me.assistant) || 'A').trim().charAt(0) || 'A');
  av.setAttribute('aria-hidden', 'true');
  var body = E('div', 'body');
  var who = E('div', 'who', (S.me && S.me.assistant) || 'Assistant');
  var md = E('div', 'md');
  body.append(who, md);
  m.append(av, body);
  return m;
}

function setActs(m, id) {
  m.dataset.step = id;
  var acts = actsProto.cloneNode(true);
  var base = 'api/steps/' + enc(id);
  acts.querySelector('.pdf-main').href = base + '/export.pdf';
  acts.querySelector('.pdf-in-menu').href = base + '/export.pdf';
  acts.querySelector('.md-in-menu').href = base + '/export.md';
  m.lastElementChild.appendChild(acts);
  return acts;
}

function badge(m, text, err) {
  var who = m.querySelector('.who');
  if (!who.querySelector('.badge')) who.appendChild(E('span', 'badge' + (err ? ' err' : ''), text));
}

function showFeedback(m) {
  var id = m.dataset.step, info = S.steps.get(id) || {}, fb = info.feedback;
  var up = m.querySelector('[data-act=up]'), down = m.querySelector('[data-act=down]');
  if (!up) return;
  up.setAttribute('aria-pressed', String(!!fb && fb.value === 1));
  down.setAttribute('aria-pressed', String(!!fb && fb.value === 0));
  var note = m.querySelector('.feedback-note');
  if (fb && fb.comment) {
    if (!note) { note = E('p', 'feedback-note'); m.lastElementChild.appendChild(note); }
    note.textContent = 'Your comment: ' + fb.comment;
  } else if (note) note.remove();
}

export function assistantMsg(s, files) {
  var m = assistantShell(false);
  var md = m.querySelector('.md');
  if (s.html != null) md.innerHTML = s.html; else md.textContent = s.output || '';
  if (files && files.length) {
    var fl = E('div', 'files');
    files.forEach(function (f) { fl.appendChild(fileChip(f)); });
    md.after(fl);
  }
  enhance(md);
  if (s.id) { S.steps.set(s.id, { output: s.output || '', feedback: s.feedback || null }); setActs(m, s.id); }
  if (s.metadata && s.metadata.stopped) badge(m, 'Stopped');
  else if (s.isError) badge(m, 'Incomplete', true);
  if (s.feedback) showFeedback(m);
  return m;
}

export function markLatest() {
  var prev = log.querySelectorAll('.msg.latest');
  for (var i = 0; i < prev.length; i++) prev[i].classList.remove('latest');
  var all = log.querySelectorAll('.msg.assistant[data-step]');
  if (all.length) all[all.length - 1].classList.add('latest');
}

function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 80; }
export function toBottom() { log.scrollTop = log.scrollHeight; }

function showWelcome() {
  log.textContent = '';
  var w = E('div', 'welcome');
  var logo = E('div', 'logo');
  logo.appendChild(icon('doc'));
  w.append(logo, E('h2', null, S.title), E('p', null, (S.me && S.me.welcome) || ''));
  log.appendChild(w);
}

export function newChat(push) {
  abortStream();
  S.openGen++;
  S.threadId = null;
  S.steps.clear();
  if (push !== false && location.hash) history.pushState(null, '', location.pathname + location.search.replace(/([?&])thread=[^&]*&?/, '$1').replace(/[?&]$/, ''));
  setThreadName('');
  markActive();
  showWelcome();
  if (isMobile()) setDrawer(false);
  ta.focus();
}

export function openThread(id) {
  abortStream();
  S.threadId = id;
  S.steps.clear();
  var gen = ++S.openGen;
  markActive();
  var t0 = performance.now();
  var spin = setTimeout(function () {
    if (gen !== S.openGen) return;
    log.textContent = '';
    var sp = E('div', 'spinner');
    sp.setAttribute('role', 'status');
    sp.setAttribute('aria-label', 'Loading the conversation');
    log.appendChild(sp);
  }, 150);
  var known = S.list.items.find(function (x) { return x.id === id; });
  setThreadName(known ? known.name : '');
  return api('GET', 'api/threads/' + enc(id)).then(function (t) {
    if (gen !== S.openGen) return;
    clearTimeout(spin);
    renderThread(t);
    app.dataset.openMs = String(Math.round(performance.now() - t0));
  }, function (e) {
    if (gen !== S.openGen) return;
    clearTimeout(spin);
    log.textContent = '';
    var n = notice(e.status === 404 ? 'This chat does not exist or was deleted.' : e.message);
    var b = E('button', 'btn btn-small', e.status === 404 ? 'Start a new chat' : 'Try again');
    b.type = 'button';
    b.addEventListener('click', function () { if (e.status === 404) newChat(); else openThread(id); });
    n.appendChild(b);
    var w = E('div', 'msg'); w.appendChild(n);
    log.appendChild(w);
    if (e.status === 404) { S.threadId = null; setThreadName(''); }
  });
}

function renderThread(t) {
  setThreadName(t.name || 'Untitled chat');
  var byFor = new Map();
  (t.elements || []).forEach(function (el) {
    if (!el.forId) return;
    if (!byFor.has(el.forId)) byFor.set(el.forId, []);
    byFor.get(el.forId).push(el);
  });
  var frag = document.createDocumentFragment();
  (t.steps || []).forEach(function (s) {
    if (s.type === 'user_message') frag.appendChild(userMsg(s.output || '', s.id, byFor.get(s.id)));
    else if (s.type === 'assistant_message') frag.appendChild(assistantMsg(s, byFor.get(s.id)));
  });
  log.textContent = '';
  if (!frag.firstChild) showWelcome(); else log.appendChild(frag);
  markLatest();
  toBottom();
}

function setBusy(busy) {
  ta.disabled = busy;
  $('send').hidden = busy;
  $('stop').hidden = !busy;
  $('stop').disabled = false;
  $('attach').disabled = busy;
  if (!busy) { updateSend(); ta.focus(); }
}

function abortStream() {
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
  var cursor = E('span', 'cursor');
  cursor.setAttribute('aria-hidden', 'true');
  return { md: md, tail: tail, cursor: cursor };
}

function paintLive(st) {
  st.raf = 0;
  var stick = nearBottom();
  var p = st.parts;
  if (st.htmlDirty) {
    st.htmlDirty = false;
    p.md.innerHTML = st.html;
    enhance(p.md);
  }
  /* the cursor (and tokens that arrived after the last render) go at the end
     of the deepest last block, so the text grows where it will stay */
  var target = p.md;
  while (target.lastElementChild && BLOCKY.test(target.lastElementChild.tagName)) target = target.lastElementChild;
  if (target.classList && target.classList.contains('code-wrap')) target = target.querySelector('code') || target;
  p.tail.data = st.tail;
  if (p.tail.parentNode !== target || target.lastChild !== p.cursor) { target.append(p.tail, p.cursor); }
  var th = st.msg.querySelector('.thinking');
  if (th && (st.html || st.tail)) th.remove();
  if (stick) toBottom();
}
function schedulePaint(st) {
  if (!st.raf) st.raf = requestAnimationFrame(function () { if (!st.ended) paintLive(st); });
}

export function send(content, opts) {
  if (S.stream || !content) return;
  opts = opts || {};
  if (log.querySelector('.welcome')) log.textContent = '';
  var um = userMsg(content);
  log.appendChild(um);
  var m = assistantShell(true);
  m.setAttribute('aria-busy', 'true');
  var th = E('div', 'thinking');
  th.setAttribute('aria-label', 'The assistant is thinking');
  th.append(E('i'), E('i'), E('i'));
  m.querySelector('.md').after(th);
  log.appendChild(m);
  toBottom();
  var st = {
    ctrl: new AbortController(), msg: m, user: um, content: content, parts: liveParts(m),
    html: '', tail: '', htmlDirty: false, raf: 0, stepId: null, threadSeen: false, ended: false
  };
  S.stream = st;
  setBusy(true);
  var parser = new SseParser(function (ev, data) { onSse(st, ev, data); });
  fetch('api/chat', {
    method: 'POST', credentials: 'same-origin', signal: st.ctrl.signal,
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', 'X-CSRF-Token': S.csrf },
    body: JSON.stringify({ thread_id: S.threadId, content: content })
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
        failStream(st, errorText(j, r.status), 'http');
      });
    }
    if (!r.body) return failStream(st, 'This browser cannot read streamed answers.', 'http');
    var reader = r.body.getReader();
    st.reader = reader;
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

function onSse(st, ev, data) {
  if (st.ended || st.aborted) return;
  var d;
  try { d = data ? JSON.parse(data) : {}; } catch (e) { return; }
  if (ev === 'thread') {
    st.threadSeen = true;
    st.stepId = d.assistant_step_id || null;
    if (d.user_step_id) st.user.dataset.step = d.user_step_id;
    if (d.thread_id && d.thread_id !== S.threadId) {
      adoptThread(d.thread_id, d.thread_name || st.content.replace(/\s+/g, ' ').trim());
    }
  } else if (ev === 'token') {
    if (typeof d.t === 'string') { st.tail += d.t; schedulePaint(st); }
  } else if (ev === 'render') {
    if (typeof d.html === 'string') { st.html = d.html; st.tail = ''; st.htmlDirty = true; schedulePaint(st); }
  } else if (ev === 'done') {
    finishStream(st, d);
  } else if (ev === 'error') {
    failStream(st, d.message || 'The backend failed while answering.', 'error');
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

function finishStream(st, d) {
  endLive(st);
  var m = st.msg, md = st.parts.md;
  st.parts.tail.remove();
  if (typeof d.html === 'string') md.innerHTML = d.html;
  else if (st.html) md.innerHTML = st.html;
  else md.textContent = d.content || st.tail;
  enhance(md);
  var id = d.step_id || st.stepId;
  if (id) {
    S.steps.set(id, { output: d.content != null ? d.content : st.tail, feedback: null });
    setActs(m, id);
  }
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
  if (!st.html && !st.tail) md.remove(); else st.parts.tail.remove();
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
  m.dataset.retry = st.content;
  m.dataset.saved = st.threadSeen ? '1' : '';
  if (st.stepId && st.threadSeen && (st.html || st.tail)) {
    S.steps.set(st.stepId, { output: st.tail, feedback: null });
  }
  if (nearBottom()) toBottom();
}

function stopStream() {
  var st = S.stream;
  if (!st) return;
  $('stop').disabled = true;
  if (!st.stepId) { st.aborted = true; st.ctrl.abort(); endLive(st); badge(st.msg, 'Stopped'); st.parts.tail.remove(); return; }
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

function retry(m) {
  if (S.stream) return;
  var content = m.dataset.retry;
  if (!content) return;
  if (!m.dataset.saved) {
    var u = m.previousElementSibling;
    if (u && u.classList.contains('user')) u.remove();
    m.remove();
  } else {
    var n = m.querySelector('.notice');
    if (n) n.remove();
    delete m.dataset.retry;
  }
  send(content);
}

function onLogClick(e) {
  var b = e.target.closest('[data-act]');
  if (!b) return;
  var m = b.closest('.msg');
  var act = b.dataset.act;
  if (act === 'copy-code') {
    var code = b.parentNode.querySelector('pre');
    copyText(code ? code.textContent : '').then(function () { flashCopied(b); });
  } else if (act === 'copy') {
    var info = S.steps.get(m.dataset.step);
    var md = m.querySelector('.md');
    copyText(info && info.output ? info.output : (md ? md.innerText : '')).then(function () { flashCopied(b); });
  } else if (act === 'up' || act === 'down') {
    feedback(m, act === 'up' ? 1 : 0);
  } else if (act === 'more') {
    toggleMenu(b, b.nextElementSibling, { left: true, keyboard: e.detail === 0 });
  } else if (act === 'retry') {
    retry(m);
  } else if (act === 'reload') {
    if (S.threadId) openThread(S.threadId);
  } else if (act === 'fb-close') {
    b.closest('form').remove();
  }
}

function feedback(m, value) {
  var id = m.dataset.step;
  if (!id) return;
  var info = S.steps.get(id) || { output: '' };
  S.steps.set(id, info);
  var old = m.querySelector('.feedback-form');
  if (old) old.remove();
  var url = 'api/steps/' + enc(id) + '/feedback';
  if (info.feedback && info.feedback.value === value) {
    api('DELETE', url).then(function () { info.feedback = null; showFeedback(m); toast('Feedback removed'); },
      function (e) { toast(e.message); });
    return;
  }
  api('PUT', url, { value: value, comment: null }).then(function (r) {
    info.feedback = { value: value, comment: r && r.comment ? r.comment : null };
    showFeedback(m);
    commentForm(m, info, url);
  }, function (e) { toast(e.message); });
}

function commentForm(m, info, url) {
  var f = E('form', 'feedback-form');
  var input = E('input');
  input.type = 'text';
  input.placeholder = info.feedback.value ? 'What was good? (optional)' : 'What went wrong? (optional)';
  input.setAttribute('aria-label', 'Comment on this answer (optional)');
  input.maxLength = 2000;
  var ok = E('button', 'btn btn-small btn-primary', 'Send');
  ok.type = 'submit';
  f.append(input, ok, iconBtn('fb-close', 'Close the comment box', 'x'));
  f.addEventListener('submit', function (e) {
    e.preventDefault();
    var c = input.value.trim();
    if (!c) { f.remove(); return; }
    ok.disabled = true;
    api('PUT', url, { value: info.feedback.value, comment: c }).then(function (r) {
      info.feedback = { value: info.feedback.value, comment: (r && r.comment) || c };
      f.remove();
      showFeedback(m);
      toast('Thank you for your feedback');
    }, function (e2) { ok.disabled = false; toast(e2.message); });
  });
  input.addEventListener('keydown', function (e) { if (e.key === 'Escape') { e.stopPropagation(); f.remove(); } });
  m.querySelector('.acts').after(f);
  input.focus();
}

export function bindMessages() {
  buildProtos();
  log.addEventListener('click', onLogClick);
  log.addEventListener('click', function (e) { var a = e.target.closest('.menu a'); if (a) closeMenu(); });
  log.addEventListener('scroll', function () { $('to-bottom').hidden = nearBottom(); }, { passive: true });
  $('to-bottom').addEventListener('click', function () { log.scrollTo({ top: log.scrollHeight, behavior: 'smooth' }); ta.focus(); });
  $('stop').addEventListener('click', stopStream);
}
