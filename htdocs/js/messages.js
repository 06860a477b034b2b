/* The conversation: messages as the module rendered them, their actions
 * (copy, feedback, exports, regenerate, edit, versions ‹ 1/2 ›), sources,
 * and opening a thread or a new chat. The streamed answer is stream.js's.
 * Security rule: answers are inserted only from the module's rendered
 * `html`; everything else as text. */
import { $, E, icon, iconBtn, enc, fmtSize, app, log, ta } from './dom.js';
import { S } from './state.js';
import { api } from './api.js';
import { enhance, morph, sourcesBlock } from './render.js';
import { toast, copyText, flashCopied, toggleMenu, closeMenu, notice, isMobile, setDrawer } from './ui.js';
import { markActive, setThreadName } from './threads.js';
import { send, regenerate, retry, abortStream, stopStream } from './stream.js';

var actsProto;
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
  var regen = iconBtn('regenerate', 'Regenerate the answer', 'retry');
  regen.classList.add('regen');
  actsProto.append(iconBtn('copy', 'Copy the answer', 'copy'), up, down, regen, wrap, pdf);
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

/* ‹ 1/2 ›: the versions of a question or an answer (ids in time order). */
function versionSwitch(id, versions, what) {
  var i = versions.indexOf(id);
  var g = E('div', 'versions');
  g.setAttribute('role', 'group');
  g.setAttribute('aria-label', 'Versions of the ' + what);
  var prev = iconBtn('version', 'Previous version', 'left');
  var next = iconBtn('version', 'Next version', 'right');
  prev.dataset.target = versions[i - 1] || '';
  next.dataset.target = versions[i + 1] || '';
  prev.disabled = i <= 0;
  next.disabled = i >= versions.length - 1;
  g.append(prev, E('span', 'ver-count', (i + 1) + ' / ' + versions.length), next);
  return g;
}

function setVersions(m, id, versions, what) {
  var old = m.querySelector('.versions');
  if (old) old.remove();
  if (!versions || versions.length < 2) return;
  var g = versionSwitch(id, versions, what);
  var host = m.querySelector(what === 'answer' ? '.acts' : '.user-acts');
  if (host) host.prepend(g);
}

/* The actions under a question of the conversation: its versions, Edit. */
export function setUserActs(m, id, versions) {
  m.dataset.step = id;
  var info = S.steps.get(id) || { output: m.dataset.text || '' };
  info.versions = versions && versions.length > 1 ? versions : null;
  S.steps.set(id, info);
  var old = m.querySelector('.user-acts');
  if (old) old.remove();
  if (m.classList.contains('upload')) return;
  var acts = E('div', 'user-acts');
  acts.appendChild(iconBtn('edit', 'Edit the question', 'edit'));
  m.querySelector('.col').appendChild(acts);
  setVersions(m, id, info.versions, 'question');
}

export function userMsg(text, id, files, versions) {
  var m = E('div', 'msg user');
  var col = E('div', 'col');
  m.dataset.text = text || '';
  if (files && files.length) {
    m.classList.add('upload');
    var fl = E('div', 'files');
    files.forEach(function (f) { fl.appendChild(fileChip(f)); });
    col.appendChild(fl);
  }
  if (text && (!files || !files.length || !isFileListText(text, files))) col.appendChild(E('div', 'bubble', text));
  m.appendChild(col);
  if (id) {
    S.steps.set(id, { output: text || '' });
    setUserActs(m, id, versions);
  }
  return m;
}
/* An upload's user step may just list its files: the chips already say it. */
function isFileListText(text, files) {
  var t = text.trim();
  return files.every(function (f) { return t.indexOf(f.name) >= 0; }) && t.length < 40 + files.reduce(function (n, f) { return n + f.name.length + 4; }, 0);
}

export function assistantShell(live) {
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

/* The actions of a saved answer: copy, feedback, regenerate, exports, and
 * its versions when it has some. */
export function setActs(m, id, versions) {
  m.dataset.step = id;
  var old = m.querySelector('.acts');
  if (old) old.remove();
  var acts = actsProto.cloneNode(true);
  var base = 'api/steps/' + enc(id);
  acts.querySelector('.pdf-main').href = base + '/export.pdf';
  acts.querySelector('.pdf-in-menu').href = base + '/export.pdf';
  acts.querySelector('.md-in-menu').href = base + '/export.md';
  m.lastElementChild.appendChild(acts);
  var info = S.steps.get(id);
  if (info) info.versions = versions && versions.length > 1 ? versions : null;
  setVersions(m, id, versions, 'answer');
  return acts;
}

export function setSources(m, sources) {
  var old = m.querySelector('.sources');
  if (old) old.remove();
  if (!Array.isArray(sources) || !sources.length) return;
  var md = m.querySelector('.md');
  var after = md.nextElementSibling && md.nextElementSibling.classList.contains('files') ? md.nextElementSibling : md;
  after.after(sourcesBlock(sources));
}

export function badge(m, text, err) {
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

/* An answer of the thread. opts.notice: an upload's ingestion notice (a
 * message of the module, not an answer: no feedback, export or regenerate). */
export function assistantMsg(s, files, opts) {
  var m = assistantShell(false);
  var md = m.querySelector('.md');
  if (s.html != null) morph(md, s.html); else md.textContent = s.output || '';
  if (files && files.length) {
    var fl = E('div', 'files');
    files.forEach(function (f) { fl.appendChild(fileChip(f)); });
    md.after(fl);
  }
  enhance(md);
  if (opts && opts.notice) {
    m.classList.add('ingest');
    if (s.id) m.dataset.step = s.id;
    return m;
  }
  if (s.id) {
    S.steps.set(s.id, { output: s.output || '', feedback: s.feedback || null });
    setActs(m, s.id, s.versions);
  }
  setSources(m, s.metadata && s.metadata.sources);
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

export function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 80; }
export function toBottom() { log.scrollTop = log.scrollHeight; }

/* The empty chat: the greeting, RagChatReadme and the RagChatStarter prompts. */
function showWelcome() {
  log.textContent = '';
  var w = E('div', 'welcome');
  var logo = E('div', 'logo');
  logo.appendChild(icon('doc'));
  w.append(logo, E('h2', null, S.title), E('p', null, (S.me && S.me.welcome) || ''));
  if (S.me && S.me.readme) {
    var r = E('div', 'readme md');
    r.innerHTML = S.me.readme;
    enhance(r);
    w.appendChild(r);
  }
  var starters = (S.me && S.me.starters) || [];
  if (starters.length) {
    var list = E('div', 'starters');
    list.setAttribute('role', 'group');
    list.setAttribute('aria-label', 'Suggested questions');
    starters.forEach(function (st) {
      var b = E('button', 'starter', st.label);
      b.type = 'button';
      b.dataset.act = 'starter';
      b.dataset.message = st.message || st.label;
      if (st.message && st.message !== st.label) b.title = st.message;
      list.appendChild(b);
    });
    w.appendChild(list);
  }
  log.appendChild(w);
}

export function newChat(push) {
  abortStream();
  S.openGen++;
  S.threadId = null;
  S.older = null;
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
  S.older = null;
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
    toBottom();
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

/* The messages of a page of the thread (its steps in order, each with its
 * versions; elements: the uploaded files). */
function stepsFragment(t) {
  var byFor = new Map();
  (t.elements || []).forEach(function (el) {
    if (!el.forId) return;
    if (!byFor.has(el.forId)) byFor.set(el.forId, []);
    byFor.get(el.forId).push(el);
  });
  var frag = document.createDocumentFragment();
  var prevUpload = false;
  (t.steps || []).forEach(function (s) {
    var meta = s.metadata || {};
    if (s.type === 'user_message') {
      frag.appendChild(userMsg(s.output || '', s.id, byFor.get(s.id), s.versions));
      prevUpload = !!meta.upload || byFor.has(s.id);
    } else if (s.type === 'assistant_message') {
      frag.appendChild(assistantMsg(s, byFor.get(s.id), { notice: !!meta.upload || prevUpload }));
      prevUpload = false;
    }
  });
  return frag;
}

/* The thread as the module sends it: the newest steps of the branch shown;
 * older ones load as the user scrolls up (loadOlder). */
function renderThread(t) {
  setThreadName(t.name || 'Untitled chat');
  S.steps.clear();
  S.olderLoading = false;
  var frag = stepsFragment(t);
  log.textContent = '';
  log.removeAttribute('aria-busy');
  if (!frag.firstChild) showWelcome(); else log.appendChild(frag);
  setOlder(t.next_before);
  markLatest();
}

/* ---- earlier messages, loaded as the user scrolls up ---------------------- */

var olderSeen;    /* IntersectionObserver of the bar at the top */

/* The bar above the first message while earlier ones remain: a button (for
 * the keyboard), a spinner and a status while they load. */
function setOlder(cursor) {
  S.older = cursor || null;
  var bar = log.querySelector('.older');
  if (!S.older) { if (bar) bar.remove(); return; }
  if (!bar) {
    bar = E('div', 'older');
    var b = E('button', 'btn btn-small', 'Show earlier messages');
    b.type = 'button';
    b.dataset.act = 'older';
    var st = E('span', 'older-status visually-hidden');
    st.setAttribute('role', 'status');
    bar.append(b, st);
    log.prepend(bar);
    if (olderSeen) olderSeen.observe(bar);
  }
  bar.classList.remove('loading');
  bar.querySelector('button').hidden = false;
}

function nearTop() {
  var bar = log.querySelector('.older');
  return !!bar && bar.getBoundingClientRect().bottom > log.getBoundingClientRect().top - 600;
}

/* The page before the first message shown, put above it without moving what
 * the user looks at: the first message keeps its place on the screen. */
function loadOlder() {
  if (S.olderLoading) return S.olderLoading;
  if (!S.older || !S.threadId) return Promise.resolve();
  var gen = S.openGen, id = S.threadId, bar = log.querySelector('.older');
  log.setAttribute('aria-busy', 'true');
  bar.classList.add('loading');
  var focused = bar.contains(document.activeElement);
  bar.querySelector('button').hidden = true;
  bar.querySelector('.older-status').textContent = 'Loading earlier messages\u2026';
  S.olderLoading = api('GET', 'api/threads/' + enc(id) + '?before=' + enc(S.older)).then(function (t) {
    if (gen !== S.openGen) return;
    var anchor = bar.nextElementSibling;
    var top = anchor ? anchor.getBoundingClientRect().top : 0;
    var frag = stepsFragment(t);
    var first = frag.firstElementChild;
    bar.after(frag);
    S.olderLoading = false;
    log.removeAttribute('aria-busy');
    bar.querySelector('.older-status').textContent = (t.steps || []).length + ' earlier messages loaded';
    setOlder(t.next_before);
    /* measured once the bar is back to its size (or gone) */
    if (anchor) log.scrollTop += anchor.getBoundingClientRect().top - top;
    if (focused && first) { first.tabIndex = -1; first.focus({ preventScroll: true }); }
    if (nearTop()) loadOlder();
  }, function (e) {
    if (gen !== S.openGen) return;
    S.olderLoading = false;
    log.removeAttribute('aria-busy');
    bar.querySelector('.older-status').textContent = '';
    setOlder(S.older);
    toast(e.message);
  });
  return S.olderLoading;
}

/* ‹ › on a question or an answer: that version is shown (and the next
 * message continues from it). */
function showVersion(b) {
  var target = b.dataset.target, next = b.getAttribute('aria-label') === 'Next version';
  if (!target || S.stream) return;
  var gen = ++S.openGen;
  api('POST', 'api/steps/' + enc(target) + '/show').then(function (t) {
    if (gen !== S.openGen) return;
    var top = log.scrollTop;
    renderThread(t);
    log.scrollTop = top;
    return reveal(target, next, gen, 0);
  }, function (e) { toast(e.message); });
}

/* The version just shown, in view and focused: far back in a long branch, the
 * pages before the newest are loaded until it is there. */
function reveal(target, next, gen, pages) {
  if (gen !== S.openGen) return;
  var m = log.querySelector('.msg[data-step="' + CSS.escape(target) + '"]');
  if (!m) {
    if (S.older && pages < 200) return loadOlder().then(function () { return reveal(target, next, gen, pages + 1); });
    return;
  }
  var btns = m.querySelectorAll('.versions .icon-btn');
  var f = btns[next ? 1 : 0];
  if (f && f.disabled) f = btns[next ? 0 : 1];
  if (f) f.focus({ preventScroll: true });
  m.scrollIntoView({ block: 'nearest' });
}

/* Edit and resend: the question opens in place; Enter sends it as a new
 * version, Escape cancels. */
function editQuestion(m) {
  if (S.stream || m.querySelector('.edit-form')) return;
  var id = m.dataset.step, info = S.steps.get(id) || {};
  var col = m.querySelector('.col'), bubble = col.querySelector('.bubble'), acts = col.querySelector('.user-acts');
  var form = E('form', 'edit-form');
  var area = E('textarea');
  area.value = info.output || m.dataset.text || '';
  area.rows = Math.min(10, Math.max(2, area.value.split('\n').length));
  area.setAttribute('aria-label', 'Edit your question');
  var row = E('div', 'edit-row');
  var cancel = E('button', 'btn btn-small', 'Cancel');
  cancel.type = 'button';
  var ok = E('button', 'btn btn-small btn-primary', 'Send');
  ok.type = 'submit';
  row.append(cancel, ok);
  form.append(area, row);
  if (bubble) bubble.hidden = true;
  if (acts) acts.hidden = true;
  col.appendChild(form);
  m.classList.add('editing');
  area.focus();
  area.setSelectionRange(area.value.length, area.value.length);
  function close() {
    form.remove();
    m.classList.remove('editing');
    if (bubble) bubble.hidden = false;
    if (acts) { acts.hidden = false; acts.querySelector('[data-act=edit]').focus(); }
  }
  cancel.addEventListener('click', close);
  area.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
    else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = area.value.trim();
    if (!text || S.stream) return;
    if (text === (info.output || '').trim()) { close(); return; }
    /* the question and all after it give way to the new version */
    while (m.nextElementSibling) m.nextElementSibling.remove();
    m.remove();
    send(text, { edit: id, versions: info.versions || [id] });
  });
}

function onLogClick(e) {
  var b = e.target.closest('[data-act]');
  if (!b) return;
  var m = b.closest('.msg');
  var act = b.dataset.act;
  if (act === 'copy-code') {
    var code = b.closest('.code-wrap').querySelector('pre');
    copyText(code ? code.textContent : '').then(function () { flashCopied(b); });
  } else if (act === 'copy') {
    var info = S.steps.get(m.dataset.step);
    var md = m.querySelector('.md');
    copyText(info && info.output ? info.output : (md ? md.innerText : '')).then(function () { flashCopied(b); });
  } else if (act === 'up' || act === 'down') {
    feedback(m, act === 'up' ? 1 : 0, b);
  } else if (act === 'more') {
    toggleMenu(b, b.nextElementSibling, { left: true, keyboard: e.detail === 0 });
  } else if (act === 'regenerate') {
    regenerate(m);
  } else if (act === 'edit') {
    editQuestion(m);
  } else if (act === 'version') {
    showVersion(b);
  } else if (act === 'starter') {
    if (!S.stream && !S.uploading) send(b.dataset.message);
  } else if (act === 'retry') {
    retry(m);
  } else if (act === 'older') {
    loadOlder();
  } else if (act === 'reload') {
    if (S.threadId) openThread(S.threadId);
  } else if (act === 'fb-close') {
    closeComment(b.closest('form'));
  }
}

function closeComment(f) {
  if (!f) return;
  var thumb = f.thumb;
  f.remove();
  if (thumb && thumb.isConnected) thumb.focus();
}

function feedback(m, value, thumb) {
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
    commentForm(m, info, url, thumb);
  }, function (e) { toast(e.message); });
}

function commentForm(m, info, url, thumb) {
  var f = E('form', 'feedback-form');
  f.thumb = thumb;
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
    if (!c) { closeComment(f); return; }
    ok.disabled = true;
    api('PUT', url, { value: info.feedback.value, comment: c }).then(function (r) {
      info.feedback = { value: info.feedback.value, comment: (r && r.comment) || c };
      closeComment(f);
      showFeedback(m);
      toast('Thank you for your feedback');
    }, function (e2) { ok.disabled = false; toast(e2.message); });
  });
  input.addEventListener('keydown', function (e) { if (e.key === 'Escape') { e.stopPropagation(); closeComment(f); } });
  m.querySelector('.acts').after(f);
  input.focus();
}

export function bindMessages() {
  buildProtos();
  log.addEventListener('click', onLogClick);
  log.addEventListener('click', function (e) { var a = e.target.closest('.menu a'); if (a) closeMenu(); });
  log.addEventListener('scroll', function () { $('to-bottom').hidden = nearBottom(); }, { passive: true });
  olderSeen = new IntersectionObserver(function (en) {
    if (en.some(function (x) { return x.isIntersecting; })) loadOlder();
  }, { root: log, rootMargin: '600px 0px 0px 0px' });
  $('to-bottom').addEventListener('click', function () { log.scrollTo({ top: log.scrollHeight, behavior: 'smooth' }); ta.focus(); });
  $('stop').addEventListener('click', stopStream);
}
