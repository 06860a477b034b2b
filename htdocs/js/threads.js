/* The sidebar's conversations: the list by date groups, search (with the
 * matching text of each result, highlighted), pagination as the list
 * scrolls, rename and delete; the current thread's title and menu. The list
 * is one Tab stop: arrow keys move between the conversations. */
import { $, E, iconBtn, enc } from './dom.js';
import { S } from './state.js';
import { api } from './api.js';
import { toast, confirmDialog, closeMenu, toggleMenu, isMobile, setDrawer } from './ui.js';
import { newChat } from './messages.js';

const groupsEl = $('thread-groups');

var DAY = 864e5;
function parseTime(iso) {
  if (!iso) return NaN;
  return Date.parse(String(iso).replace(/(\.\d{3})\d+/, '$1').replace(' ', 'T'));
}
function groupOf(iso, startOfToday) {
  var t = parseTime(iso);
  if (isNaN(t)) return 'Older';
  if (t >= startOfToday) return 'Today';
  if (t >= startOfToday - DAY) return 'Yesterday';
  if (t >= startOfToday - 7 * DAY) return 'Previous 7 days';
  if (t >= startOfToday - 30 * DAY) return 'Previous 30 days';
  return 'Older';
}

/* text into el, the occurrences of q (any case) as <mark>. */
function highlightInto(el, text, q) {
  var low = text.toLowerCase(), ql = (q || '').toLowerCase();
  if (!ql || low.length !== text.length) { el.textContent = text; return; }
  var at = 0, i;
  while ((i = low.indexOf(ql, at)) >= 0) {
    if (i > at) el.appendChild(document.createTextNode(text.slice(at, i)));
    el.appendChild(E('mark', null, text.slice(i, i + ql.length)));
    at = i + ql.length;
  }
  if (at < text.length) el.appendChild(document.createTextNode(text.slice(at)));
}

/* The module's snippet: plain text and the words its search matched, by
 * turns (any script, any case); each a text node, never markup. */
function partsInto(el, parts) {
  parts.forEach(function (s, i) {
    if (i % 2) el.appendChild(E('mark', null, s));
    else if (s) el.appendChild(document.createTextNode(s));
  });
}

function threadItem(t) {
  var li = E('li', 'thread' + (t.id === S.threadId ? ' active' : ''));
  li.dataset.id = t.id;
  var a = E('a', 'thread-link');
  var name = E('span', 'thread-name');
  highlightInto(name, t.name || 'Untitled chat', S.list.q);
  a.appendChild(name);
  if (t.snippet && S.list.q) {
    var sn = E('span', 'thread-snippet');
    if (Array.isArray(t.snippet_parts)) partsInto(sn, t.snippet_parts);
    else highlightInto(sn, t.snippet, S.list.q);
    a.appendChild(sn);
  }
  a.href = '#/thread/' + enc(t.id);
  a.title = t.name || '';
  if (t.id === S.threadId) a.setAttribute('aria-current', 'page');
  var acts = E('div', 'thread-acts');
  acts.append(iconBtn('rename', 'Rename chat', 'edit'), iconBtn('delete', 'Delete chat', 'trash'));
  li.append(a, acts);
  return li;
}

function renderThreads() {
  var now = new Date();
  var start = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  var frag = document.createDocumentFragment();
  var cur = null, ul = null;
  S.list.items.forEach(function (t) {
    var g = groupOf(t.createdAt, start);
    if (g !== cur) {
      cur = g;
      var sec = E('section', 'group');
      var h = E('h2', 'group-label', g);
      h.id = 'g-' + g.replace(/\W+/g, '-').toLowerCase();
      ul = E('ul', 'thread-list');
      ul.setAttribute('aria-labelledby', h.id);
      sec.append(h, ul);
      frag.appendChild(sec);
    }
    ul.appendChild(threadItem(t));
  });
  var had = groupsEl.contains(document.activeElement) && document.activeElement.closest('.thread');
  groupsEl.textContent = '';
  groupsEl.appendChild(frag);
  roving(had ? had.dataset.id : null, !!had);
  var note = $('threads-empty');
  if (!S.list.items.length && S.list.done) {
    note.textContent = S.list.q ? 'No chats match \u201c' + S.list.q + '\u201d.' : 'No chats yet. Ask a question to start one.';
    note.hidden = false;
  } else note.hidden = true;
}

export function loadThreads(reset) {
  var L = S.list;
  if (reset) { L.gen++; L.next = null; L.done = false; L.loading = false; L.items = []; }
  if (L.loading || L.done) return Promise.resolve();
  L.loading = true;
  var gen = L.gen, more = $('threads-more');
  more.classList.add('loading');
  var url = 'api/threads?limit=30';
  if (L.q) url += '&q=' + enc(L.q);
  if (L.next) url += '&before=' + enc(L.next);
  return api('GET', url).then(function (j) {
    if (gen !== L.gen) return;
    var seen = new Set(L.items.map(function (t) { return t.id; }));
    (j.threads || []).forEach(function (t) { if (!seen.has(t.id)) L.items.push(t); });
    L.next = j.next_before || null;
    L.done = !L.next;
    renderThreads();
  }, function (e) {
    if (gen !== L.gen) return;
    L.done = true;
    var note = $('threads-empty');
    note.textContent = e.message;
    note.hidden = false;
  }).then(function () {
    if (gen !== L.gen) return;
    L.loading = false;
    more.classList.remove('loading');
    /* the observer fires on changes only: a short page keeps the sentinel visible */
    var nav = $('threads');
    if (!L.done && more.getBoundingClientRect().top < nav.getBoundingClientRect().bottom + 200) loadThreads();
  });
}

function rememberThread(id, name) {
  var L = S.list;
  var found = L.items.find(function (t) { return t.id === id; });
  if (found) return;
  if (L.q) return;   /* a search is shown: leave its results alone */
  L.items.unshift({ id: id, name: name, createdAt: new Date().toISOString() });
  renderThreads();
}

export function markActive() {
  groupsEl.querySelectorAll('.thread').forEach(function (li) {
    var on = li.dataset.id === S.threadId;
    li.classList.toggle('active', on);
    var a = li.firstElementChild;
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  if (!groupsEl.contains(document.activeElement)) roving(null, false);
}

/* One Tab stop: the conversation of id (else the current one, else the
 * first) and its buttons are reachable with Tab, the others with the arrows. */
function roving(id, focus) {
  var items = groupsEl.querySelectorAll('.thread');
  var cur = null;
  items.forEach(function (li) { if (li.dataset.id === id) cur = li; });
  if (!cur) items.forEach(function (li) { if (!cur && li.dataset.id === S.threadId) cur = li; });
  if (!cur) cur = items[0] || null;
  items.forEach(function (li) {
    var ti = li === cur ? 0 : -1;
    li.querySelectorAll('a, button').forEach(function (x) { x.tabIndex = ti; });
  });
  if (cur && focus) cur.firstElementChild.focus();
}

function threadKeys(e) {
  var li = e.target.closest('.thread');
  if (!li || e.target.tagName === 'INPUT' || e.altKey || e.ctrlKey || e.metaKey) return;
  var items = Array.prototype.slice.call(groupsEl.querySelectorAll('.thread'));
  var i = items.indexOf(li), to = -1;
  if (e.key === 'ArrowDown') to = Math.min(items.length - 1, i + 1);
  else if (e.key === 'ArrowUp') to = Math.max(0, i - 1);
  else if (e.key === 'Home') to = 0;
  else if (e.key === 'End') to = items.length - 1;
  else if (e.key === 'F2') { e.preventDefault(); li.querySelector('[data-act=rename]').click(); return; }
  else if (e.key === 'Delete') { e.preventDefault(); li.querySelector('[data-act=delete]').click(); return; }
  else return;
  e.preventDefault();
  if (to >= 0) roving(items[to].dataset.id, true);
}

export function setThreadName(name) {
  S.threadName = name || '';
  $('thread-title').textContent = S.threadName;
  document.title = S.threadName ? S.threadName + ' \u2013 ' + S.title : S.title;
  var hasThread = !!S.threadId;
  $('thread-menu-wrap').hidden = !hasThread;
  if (hasThread) {
    $('export-pdf').href = 'api/threads/' + enc(S.threadId) + '/export.pdf';
    $('export-md').href = 'api/threads/' + enc(S.threadId) + '/export.md';
  }
}

/* A thread the server just created for what this page sent (a question, an
 * upload) becomes the current one, in the address, the list and the title. */
export function adoptThread(id, name) {
  S.threadId = id;
  history.replaceState(null, '', '#/thread/' + enc(id));
  rememberThread(id, name);
  markActive();
  setThreadName(name);
}

/* A thread adopted for a question the server then could not save: it does
 * not exist, so it leaves the list, the address and the title (the page
 * keeps the messages shown, for the user to send again). */
export function forgetThread(id) {
  S.list.items = S.list.items.filter(function (t) { return t.id !== id; });
  renderThreads();
  if (S.threadId !== id) return;
  S.threadId = null;
  history.replaceState(null, '', location.pathname + location.search.replace(/([?&])thread=[^&]*&?/, '$1').replace(/[?&]$/, ''));
  markActive();
  setThreadName('');
}

function inlineEdit(anchor, value, commit, back) {
  var input = E('input', 'thread-rename');
  input.value = value;
  input.setAttribute('aria-label', 'New name of the chat');
  input.maxLength = 500;
  anchor.hidden = true;
  anchor.after(input);
  input.focus();
  input.select();
  var finished = false;
  function end(save) {
    if (finished) return;
    finished = true;
    var v = input.value.trim();
    input.remove();
    anchor.hidden = false;
    if (save && v && v !== value) commit(v);
    else back();
  }
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter') { e.preventDefault(); end(true); }
    else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); end(false); }
  });
  input.addEventListener('blur', function () { end(true); });
}

/* then: where the focus goes back to once the list is drawn again. */
function renameThread(id, name, then) {
  return api('PATCH', 'api/threads/' + enc(id), { name: name }).then(function (t) {
    var n = (t && t.name) || name;
    S.list.items.forEach(function (x) { if (x.id === id) x.name = n; });
    renderThreads();
    if (id === S.threadId) setThreadName(n);
    toast('Chat renamed');
    then();
  }, function (e) { toast(e.message); renderThreads(); then(); });
}
function focusThread(id) { return function () { roving(id, true); }; }
function focusMenuButton() { $('thread-menu-btn').focus(); }

function deleteThread(id) {
  var t = S.list.items.find(function (x) { return x.id === id; });
  var name = t ? t.name : (id === S.threadId ? S.threadName : '');
  return confirmDialog('Delete this chat?',
    (name ? '\u201c' + name + '\u201d' : 'This chat') + ' and all its messages will be deleted. This cannot be undone.',
    'Delete').then(function (ok) {
    if (!ok) return;
    return api('DELETE', 'api/threads/' + enc(id)).then(function () {
      S.list.items = S.list.items.filter(function (x) { return x.id !== id; });
      renderThreads();
      toast('Chat deleted');
      if (id === S.threadId) newChat(); else roving(null, true);
    }, function (e) { toast(e.message); });
  });
}

function onThreadsClick(e) {
  var b = e.target.closest('[data-act]');
  var li = e.target.closest('.thread');
  if (!li) return;
  var id = li.dataset.id;
  if (!b) {   /* the link itself: the hash change opens it */
    if (isMobile()) setDrawer(false);
    if (id === S.threadId && !S.stream && location.hash === '#/thread/' + enc(id)) e.preventDefault();
    return;
  }
  var t = S.list.items.find(function (x) { return x.id === id; }) || { name: '' };
  if (b.dataset.act === 'rename') inlineEdit(li.firstElementChild, t.name || '', function (v) { renameThread(id, v, focusThread(id)); }, focusThread(id));
  else if (b.dataset.act === 'delete') deleteThread(id);
}

export function bindThreads() {
  var searchTimer;
  $('search').addEventListener('input', function (e) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      var q = e.target.value.trim();
      if (q === S.list.q) return;
      S.list.q = q;
      loadThreads(true);
    }, 250);
  });
  $('search').addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && e.target.value) { e.stopPropagation(); e.target.value = ''; e.target.dispatchEvent(new Event('input')); }
  });
  groupsEl.addEventListener('click', onThreadsClick);
  groupsEl.addEventListener('keydown', threadKeys);
  groupsEl.addEventListener('focusin', function (e) {
    var li = e.target.closest('.thread');
    if (li && e.target.tabIndex < 0) roving(li.dataset.id, false);
  });
  new IntersectionObserver(function (en) { if (en[0].isIntersecting && S.me) loadThreads(); },
    { root: $('threads'), rootMargin: '200px' }).observe($('threads-more'));

  $('thread-menu-btn').addEventListener('click', function (e) {
    toggleMenu(e.currentTarget, $('thread-menu'), { keyboard: e.detail === 0 });
  });
  $('thread-rename').addEventListener('click', function () {
    closeMenu();
    var id = S.threadId;
    if (id) inlineEdit($('thread-title'), S.threadName, function (v) { renameThread(id, v, focusMenuButton); }, focusMenuButton);
  });
  $('thread-delete').addEventListener('click', function () { closeMenu(); if (S.threadId) deleteThread(S.threadId); });
  $('thread-menu').addEventListener('click', function (e) { if (e.target.closest('a')) closeMenu(); });
}
