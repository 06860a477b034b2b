/* mod_ragchat browser app: plain ES2020, no framework, no build step.
 * Everything is fetched relative to the page (B/), so the app works under any
 * base path. Security rules: answers are inserted only from the module's
 * rendered `html`; everything else (messages, names, file names) as text. */
(function () {
  'use strict';

  var root = document.documentElement;
  var $ = function (id) { return document.getElementById(id); };
  function E(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function icon(name) { var s = E('span', 'ico i-' + name); s.setAttribute('aria-hidden', 'true'); return s; }
  function iconBtn(act, label, ico) {
    var b = E('button', 'icon-btn');
    b.type = 'button';
    if (act) b.dataset.act = act;
    b.setAttribute('aria-label', label);
    b.title = label;
    b.appendChild(icon(ico));
    return b;
  }
  var enc = encodeURIComponent;
  function store(k, v) { try { if (v == null) localStorage.removeItem(k); else localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  function stored(k) { try { return localStorage.getItem(k); } catch (e) { return null; } }

  /* ---------------------------------------------------------------- theme */
  var darkQuery = window.matchMedia('(prefers-color-scheme: dark)');
  function effectiveTheme() { return root.dataset.theme || (darkQuery.matches ? 'dark' : 'light'); }
  function applyTheme(t) {
    if (t === 'dark' || t === 'light') root.dataset.theme = t; else delete root.dataset.theme;
    var b = $('theme');
    if (!b) return;
    var dark = effectiveTheme() === 'dark';
    b.setAttribute('aria-label', dark ? 'Switch to light theme' : 'Switch to dark theme');
    b.title = b.getAttribute('aria-label');
    b.firstElementChild.className = 'ico ' + (dark ? 'i-sun' : 'i-moon');
  }
  applyTheme(stored('ragchat.theme'));

  /* ---------------------------------------------------------------- state */
  var S = {
    me: null, csrf: '', title: 'Chat',
    threadId: null, threadName: '', openGen: 0,
    steps: new Map(),           /* step id -> {output, feedback} */
    list: { q: '', next: null, done: false, loading: false, gen: 0, items: [] },
    stream: null,               /* the running answer */
    files: [],                  /* chosen, not yet uploaded */
    uploading: false
  };
  var app, log, ta, groupsEl;

  function ApiError(message, status) { this.message = message; this.status = status; }

  function errorText(j, status) {
    if (j && j.error && j.error.message) return j.error.message;
    if (status === 413) return 'The upload is too large.';
    if (status === 415) return 'This file type is not accepted.';
    if (status === 429) return 'Too many requests. Please wait a moment.';
    if (status === 502 || status === 504) return 'The backend is not answering. Please try again.';
    return 'The request failed (HTTP ' + status + ').';
  }

  function toLogin() {
    if (S.me && S.me.auth === 'apache') { location.reload(); return; }
    location.href = 'login';
  }

  function api(method, path, body) {
    var opt = { method: method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (method !== 'GET') opt.headers['X-CSRF-Token'] = S.csrf;
    if (body !== undefined) { opt.headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
    return fetch(path, opt).then(function (r) {
      if (r.status === 401) { toLogin(); throw new ApiError('Your session has ended. Please log in again.', 401); }
      if (r.status === 204) return null;
      return r.json().catch(function () { return null; }).then(function (j) {
        if (!r.ok) throw new ApiError(errorText(j, r.status), r.status);
        return j;
      });
    }, function () { throw new ApiError('The server cannot be reached. Check your connection.', 0); });
  }

  /* ---------------------------------------------------------------- small ui */
  var toastTimer;
  function toast(msg) {
    var t = $('toast');
    t.textContent = msg;
    t.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.classList.remove('show'); }, 2200);
  }

  function fmtSize(n) {
    n = Number(n) || 0;
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(n < 10240 ? 1 : 0) + ' KB';
    return (n / 1048576).toFixed(n < 10485760 ? 1 : 0) + ' MB';
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
    }
    return Promise.resolve(legacyCopy(text));
  }
  function legacyCopy(text) {
    var t = E('textarea', 'visually-hidden');
    t.value = text;
    document.body.appendChild(t);
    t.select();
    try { document.execCommand('copy'); } finally { t.remove(); }
  }
  function flashCopied(btn) {
    var ic = btn.querySelector('.ico');
    if (ic) ic.className = 'ico i-check';
    setTimeout(function () { if (ic) ic.className = 'ico i-copy'; }, 1500);
    toast('Copied to the clipboard');
  }

  function confirmDialog(title, text, ok) {
    return new Promise(function (resolve) {
      var d = $('confirm');
      $('confirm-title').textContent = title;
      $('confirm-text').textContent = text;
      $('confirm-ok').textContent = ok;
      d.returnValue = '';
      d.addEventListener('close', function () { resolve(d.returnValue === 'ok'); }, { once: true });
      d.showModal();
    });
  }

  /* Menus: one open at a time; arrows move, Escape closes. */
  var openMenu = null;
  function closeMenu(focusBtn) {
    if (!openMenu) return;
    var m = openMenu;
    openMenu = null;
    m.menu.hidden = true;
    m.btn.setAttribute('aria-expanded', 'false');
    var host = m.btn.closest('.msg');
    if (host) host.classList.remove('menu-open');
    if (focusBtn) m.btn.focus();
  }
  function toggleMenu(btn, menu, opts) {
    if (openMenu && openMenu.menu === menu) { closeMenu(); return; }
    closeMenu();
    var host = btn.closest('.msg');
    if (host) host.classList.add('menu-open');   /* lift content-visibility's paint clip */
    menu.hidden = false;
    menu.classList.toggle('left', !!(opts && opts.left));
    menu.classList.remove('up');
    var r = menu.getBoundingClientRect();
    if (r.bottom > window.innerHeight - 8) menu.classList.add('up');
    btn.setAttribute('aria-expanded', 'true');
    openMenu = { btn: btn, menu: menu };
    var first = menu.querySelector('[role=menuitem]:not([hidden])');
    if (first && opts && opts.keyboard) first.focus();
  }
  function menuKeys(e) {
    if (!openMenu || !openMenu.menu.contains(e.target)) return;
    var items = Array.prototype.filter.call(openMenu.menu.querySelectorAll('[role=menuitem]'),
      function (x) { return x.offsetParent !== null; });
    var i = items.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); items[(i + 1) % items.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); items[(i - 1 + items.length) % items.length].focus(); }
    else if (e.key === 'Home') { e.preventDefault(); items[0].focus(); }
    else if (e.key === 'End') { e.preventDefault(); items[items.length - 1].focus(); }
    else if (e.key === 'Escape') { e.preventDefault(); closeMenu(true); }
    else if (e.key === 'Tab') closeMenu();
  }

  /* ---------------------------------------------------------------- sidebar */
  var mobileQuery = window.matchMedia('(max-width: 768px)');
  function isMobile() { return mobileQuery.matches; }
  function setDrawer(open) {
    app.classList.toggle('nav-open', open);
    $('scrim').hidden = !open;
    $('menu').setAttribute('aria-expanded', String(open));
    if (open) $('new-chat').focus();
  }
  function toggleSidebar(show) {
    if (isMobile()) { setDrawer(show); return; }
    app.classList.toggle('nav-collapsed', !show);
    $('menu').setAttribute('aria-expanded', String(show));
    store('ragchat.sidebar', show ? null : 'collapsed');
    (show ? $('collapse') : $('menu')).focus();
  }

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

  function threadItem(t) {
    var li = E('li', 'thread' + (t.id === S.threadId ? ' active' : ''));
    li.dataset.id = t.id;
    var a = E('a', 'thread-link', t.name || 'Untitled chat');
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
    groupsEl.textContent = '';
    groupsEl.appendChild(frag);
    var note = $('threads-empty');
    if (!S.list.items.length && S.list.done) {
      note.textContent = S.list.q ? 'No chats match \u201c' + S.list.q + '\u201d.' : 'No chats yet. Ask a question to start one.';
      note.hidden = false;
    } else note.hidden = true;
  }

  function loadThreads(reset) {
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

  function markActive() {
    groupsEl.querySelectorAll('.thread').forEach(function (li) {
      var on = li.dataset.id === S.threadId;
      li.classList.toggle('active', on);
      var a = li.firstElementChild;
      if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    });
  }

  function setThreadName(name) {
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

  function inlineEdit(anchor, value, commit) {
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
      else anchor.focus();
    }
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') { e.preventDefault(); end(true); }
      else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); end(false); }
    });
    input.addEventListener('blur', function () { end(true); });
  }

  function renameThread(id, name) {
    return api('PATCH', 'api/threads/' + enc(id), { name: name }).then(function (t) {
      var n = (t && t.name) || name;
      S.list.items.forEach(function (x) { if (x.id === id) x.name = n; });
      renderThreads();
      if (id === S.threadId) setThreadName(n);
      toast('Chat renamed');
    }, function (e) { toast(e.message); renderThreads(); });
  }

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
        if (id === S.threadId) newChat();
      }, function (e) { toast(e.message); });
    });
  }

  /* ---------------------------------------------------------------- messages */
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

  function fileChip(f, removable, index) {
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

  function userMsg(text, id, files) {
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

  function assistantMsg(s, files) {
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

  function markLatest() {
    var prev = log.querySelectorAll('.msg.latest');
    for (var i = 0; i < prev.length; i++) prev[i].classList.remove('latest');
    var all = log.querySelectorAll('.msg.assistant[data-step]');
    if (all.length) all[all.length - 1].classList.add('latest');
  }

  function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 80; }
  function toBottom() { log.scrollTop = log.scrollHeight; }

  function showWelcome() {
    log.textContent = '';
    var w = E('div', 'welcome');
    var logo = E('div', 'logo');
    logo.appendChild(icon('doc'));
    w.append(logo, E('h2', null, S.title), E('p', null, (S.me && S.me.welcome) || ''));
    log.appendChild(w);
  }

  function newChat(push) {
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

  function openThread(id) {
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

  function notice(text, retry) {
    var n = E('div', 'notice');
    n.setAttribute('role', 'alert');
    n.append(icon('alert'), E('span', 'text', text));
    if (retry) {
      var b = E('button', 'btn btn-small');
      b.type = 'button';
      b.dataset.act = 'retry';
      b.append(icon('retry'), document.createTextNode('Retry'));
      n.appendChild(b);
    }
    return n;
  }

  /* ---------------------------------------------------------------- streaming */
  /* Server-sent events parsed by hand from a fetch() body (EventSource cannot POST). */
  function SseParser(onEvent) {
    var buf = '', ev = '', data = [], hasData = false;
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
  }

  function setBusy(busy) {
    ta.disabled = busy;
    $('send').hidden = busy;
    $('stop').hidden = !busy;
    $('stop').disabled = false;
    $('attach').disabled = busy;
    if (!busy) { updateSend(); ta.focus(); }
  }

  function updateSend() {
    $('send').disabled = S.uploading || (!ta.value.trim() && !S.files.length);
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

  function send(content, opts) {
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
      if (!r.ok) {
        if (r.status === 401) toLogin();
        return r.json().catch(function () { return null; }).then(function (j) { failStream(st, errorText(j, r.status), 'http'); });
      }
      if (!r.body) return failStream(st, 'This browser cannot read streamed answers.', 'http');
      var reader = r.body.getReader(), dec = new TextDecoder();
      st.reader = reader;
      function pump() {
        return reader.read().then(function (x) {
          if (x.done) { parser.push(dec.decode(), true); parser.push('\n\n', true); return; }
          parser.push(dec.decode(x.value, { stream: true }), false);
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
        S.threadId = d.thread_id;
        history.replaceState(null, '', '#/thread/' + enc(d.thread_id));
        var name = d.thread_name || st.content.replace(/\s+/g, ' ').trim();
        rememberThread(d.thread_id, name);
        markActive();
        setThreadName(name);
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

  /* ---------------------------------------------------------------- upload */
  function uploadConf() { return (S.me && S.me.upload) || {}; }
  function typeAllowed(f) {
    var types = uploadConf().types;
    if (!types || !types.length) return true;
    var name = (f.name || '').toLowerCase(), mime = (f.type || '').toLowerCase();
    return types.some(function (t) {
      t = String(t).toLowerCase();
      if (t.indexOf('/') > 0) return t.endsWith('/*') ? mime.indexOf(t.slice(0, -1)) === 0 : mime === t;
      if (t[0] !== '.') t = '.' + t;
      return name.endsWith(t);
    });
  }

  function composerError(msg) {
    var e = $('composer-error');
    e.textContent = msg || '';
    e.hidden = !msg;
  }

  function addFiles(list) {
    if (!list || !list.length) return;
    if (S.stream || S.uploading) { toast('Please wait until the current answer or upload is finished.'); return; }
    var conf = uploadConf(), errs = [];
    Array.prototype.forEach.call(list, function (f) {
      if (!typeAllowed(f)) { errs.push('\u201c' + f.name + '\u201d is not an accepted type (' + (conf.types || []).join(' ') + ').'); return; }
      if (conf.max_size && f.size > conf.max_size) { errs.push('\u201c' + f.name + '\u201d is larger than ' + fmtSize(conf.max_size) + '.'); return; }
      if (S.files.some(function (x) { return x.name === f.name && x.size === f.size; })) return;
      if (conf.max_files && S.files.length >= conf.max_files) { errs.push('At most ' + conf.max_files + ' files per upload.'); return; }
      S.files.push(f);
    });
    composerError(errs.join(' '));
    renderChips();
    ta.focus();
  }

  function renderChips() {
    var c = $('chips');
    c.textContent = '';
    S.files.forEach(function (f, i) { c.appendChild(fileChip(f, true, i)); });
    c.hidden = !S.files.length;
    updateSend();
  }

  function setProgress(frac, text) {
    var pct = Math.max(0, Math.min(100, Math.round(frac * 100)));
    $('progress-fill').style.setProperty('--p', pct + '%');
    $('progressbar').setAttribute('aria-valuenow', String(pct));
    $('progress-text').textContent = text || pct + '%';
  }

  function upload(text) {
    var files = S.files.slice();
    var total = files.reduce(function (n, f) { return n + f.size; }, 0);
    S.uploading = true;
    composerError('');
    $('attach').disabled = true;
    $('chips').querySelectorAll('button').forEach(function (b) { b.disabled = true; });
    $('upload-progress').hidden = false;
    setProgress(0, '0% of ' + fmtSize(total));
    updateSend();
    return new Promise(function (resolve) {
      var fd = new FormData();
      if (S.threadId) fd.append('thread_id', S.threadId);
      files.forEach(function (f) { fd.append('files', f, f.name); });
      var xhr = new XMLHttpRequest();
      xhr.open('POST', 'api/upload');
      xhr.setRequestHeader('X-CSRF-Token', S.csrf);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) setProgress(e.loaded / e.total, Math.round(100 * e.loaded / e.total) + '% of ' + fmtSize(total));
      };
      xhr.upload.onload = function () { setProgress(1, 'Processing\u2026'); };
      function done(ok, msg) {
        S.uploading = false;
        $('upload-progress').hidden = true;
        $('attach').disabled = false;
        if (!ok) {
          composerError(msg);
          renderChips();
        }
        updateSend();
        resolve(ok);
      }
      xhr.onload = function () {
        var j = null;
        try { j = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 401) { toLogin(); return done(false, 'Your session has ended.'); }
        if (xhr.status < 200 || xhr.status >= 300 || !j) return done(false, 'Upload failed: ' + errorText(j, xhr.status));
        S.files = [];
        renderChips();
        uploaded(j, files);
        done(true);
      };
      xhr.onerror = function () { done(false, 'Upload failed: the server cannot be reached.'); };
      xhr.onabort = function () { done(false, 'Upload cancelled.'); };
      xhr.send(fd);
    }).then(function (ok) {
      if (ok && text) { ta.value = ''; autoGrow(); send(text); }
      else ta.focus();
    });
  }

  function uploaded(j, files) {
    var list = (j.files && j.files.length ? j.files : files.map(function (f) { return { name: f.name, size: f.size }; }));
    if (log.querySelector('.welcome')) log.textContent = '';
    if (j.thread_id && j.thread_id !== S.threadId) {
      S.threadId = j.thread_id;
      history.replaceState(null, '', '#/thread/' + enc(j.thread_id));
      var name = list.map(function (f) { return f.name; }).join(', ');
      rememberThread(j.thread_id, name);
      markActive();
      setThreadName(name);
    }
    log.appendChild(userMsg('', null, list));
    var m = assistantMsg({ id: j.step_id, output: j.message || '', html: null, feedback: null }, null);
    if (!j.step_id) { var a = m.querySelector('.acts'); if (a) a.remove(); delete m.dataset.step; }
    log.appendChild(m);
    markLatest();
    toBottom();
  }

  /* ---------------------------------------------------------------- composer */
  function autoGrow() {
    ta.style.height = 'auto';
    ta.style.height = Math.min(ta.scrollHeight, Math.round(window.innerHeight * 0.4)) + 'px';
  }

  function submit() {
    if (S.stream || S.uploading) return;
    var text = ta.value.trim();
    if (S.files.length) { upload(text); return; }
    if (!text) return;
    composerError('');
    ta.value = '';
    autoGrow();
    send(text);
  }

  /* ---------------------------------------------------------------- events */
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
    if (b.dataset.act === 'rename') inlineEdit(li.firstElementChild, t.name || '', function (v) { renameThread(id, v); });
    else if (b.dataset.act === 'delete') deleteThread(id);
  }

  function route() {
    var m = /^#\/thread\/([^/?#]+)/.exec(location.hash);
    var id = m ? decodeURIComponent(m[1]) : new URLSearchParams(location.search).get('thread');
    if (id) { if (id !== S.threadId) openThread(id); }
    else if (S.threadId || !log.firstChild) newChat(false);
  }

  function bindDrop() {
    var depth = 0, drop = $('drop');
    function hasFiles(e) { var t = e.dataTransfer && e.dataTransfer.types; return !!t && Array.prototype.indexOf.call(t, 'Files') >= 0; }
    document.addEventListener('dragenter', function (e) { if (!hasFiles(e)) return; e.preventDefault(); depth++; drop.hidden = false; });
    document.addEventListener('dragover', function (e) { if (!hasFiles(e)) return; e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
    document.addEventListener('dragleave', function (e) { if (!hasFiles(e)) return; depth = Math.max(0, depth - 1); if (!depth) drop.hidden = true; });
    document.addEventListener('drop', function (e) {
      if (!e.dataTransfer) return;
      e.preventDefault();
      depth = 0;
      drop.hidden = true;
      if (e.dataTransfer.files && e.dataTransfer.files.length) addFiles(e.dataTransfer.files);
    });
  }

  function bind() {
    app = $('app'); log = $('log'); ta = $('composer-input'); groupsEl = $('thread-groups');
    buildProtos();
    applyTheme(stored('ragchat.theme'));
    if (stored('ragchat.sidebar') === 'collapsed' && !isMobile()) app.classList.add('nav-collapsed');
    $('menu').setAttribute('aria-expanded', String(!app.classList.contains('nav-collapsed') && !isMobile()));

    $('theme').addEventListener('click', function () {
      var t = effectiveTheme() === 'dark' ? 'light' : 'dark';
      store('ragchat.theme', t);
      applyTheme(t);
    });
    darkQuery.addEventListener('change', function () { applyTheme(root.dataset.theme); });
    $('menu').addEventListener('click', function () { toggleSidebar(true); });
    $('collapse').addEventListener('click', function () { toggleSidebar(false); });
    $('scrim').addEventListener('click', function () { setDrawer(false); });
    mobileQuery.addEventListener('change', function () { setDrawer(false); });
    $('new-chat').addEventListener('click', function () { newChat(); });
    $('new-chat-top').addEventListener('click', function () { newChat(); });

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
    new IntersectionObserver(function (en) { if (en[0].isIntersecting && S.me) loadThreads(); },
      { root: $('threads'), rootMargin: '200px' }).observe($('threads-more'));

    $('thread-menu-btn').addEventListener('click', function (e) {
      toggleMenu(e.currentTarget, $('thread-menu'), { keyboard: e.detail === 0 });
    });
    $('thread-rename').addEventListener('click', function () {
      closeMenu();
      var id = S.threadId;
      if (id) inlineEdit($('thread-title'), S.threadName, function (v) { renameThread(id, v); });
    });
    $('thread-delete').addEventListener('click', function () { closeMenu(); if (S.threadId) deleteThread(S.threadId); });
    $('thread-menu').addEventListener('click', function (e) { if (e.target.closest('a')) closeMenu(); });

    log.addEventListener('click', onLogClick);
    log.addEventListener('click', function (e) { var a = e.target.closest('.menu a'); if (a) closeMenu(); });
    log.addEventListener('scroll', function () { $('to-bottom').hidden = nearBottom(); }, { passive: true });
    $('to-bottom').addEventListener('click', function () { log.scrollTo({ top: log.scrollHeight, behavior: 'smooth' }); ta.focus(); });

    $('composer').addEventListener('submit', function (e) { e.preventDefault(); submit(); });
    ta.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) { e.preventDefault(); submit(); }
    });
    ta.addEventListener('input', function () { autoGrow(); updateSend(); });
    ta.addEventListener('paste', function (e) {
      var cd = e.clipboardData;
      if (cd && cd.files && cd.files.length && !cd.getData('text/plain')) { e.preventDefault(); addFiles(cd.files); }
    });
    $('stop').addEventListener('click', stopStream);
    $('attach').addEventListener('click', function () { $('file-input').click(); });
    $('file-input').addEventListener('change', function (e) { addFiles(e.target.files); e.target.value = ''; });
    $('chips').addEventListener('click', function (e) {
      var b = e.target.closest('[data-act=remove-file]');
      if (!b) return;
      S.files.splice(Number(b.dataset.index), 1);
      renderChips();
      composerError('');
      ta.focus();
    });
    bindDrop();

    $('logout').addEventListener('click', function () {
      var body = new URLSearchParams({ csrf: S.csrf });
      fetch('logout', { method: 'POST', credentials: 'same-origin', redirect: 'manual',
        headers: { 'X-CSRF-Token': S.csrf, 'Content-Type': 'application/x-www-form-urlencoded' }, body: body })
        .catch(function () { /* go anyway */ })
        .then(function () { location.href = 'login'; });
    });

    document.addEventListener('keydown', function (e) {
      menuKeys(e);
      if (e.defaultPrevented) return;
      if (e.key === 'Escape') {
        if (openMenu) closeMenu(true);
        else if (app.classList.contains('nav-open')) { setDrawer(false); $('menu').focus(); }
      } else if ((e.ctrlKey || e.metaKey) && e.shiftKey && (e.key === 'O' || e.key === 'o')) {
        e.preventDefault(); newChat();
      } else if ((e.ctrlKey || e.metaKey) && (e.key === 'k' || e.key === 'K')) {
        e.preventDefault();
        if (isMobile()) setDrawer(true); else if (app.classList.contains('nav-collapsed')) toggleSidebar(true);
        $('search').focus();
      }
    });
    document.addEventListener('click', function (e) {
      if (openMenu && !openMenu.menu.contains(e.target) && !openMenu.btn.contains(e.target)) closeMenu();
    });
    window.addEventListener('hashchange', route);
    window.addEventListener('popstate', route);
    window.addEventListener('resize', function () { if (ta.value) autoGrow(); });
  }

  function start() {
    bind();
    api('GET', 'api/me').then(function (me) {
      S.me = me || {};
      S.csrf = S.me.csrf || '';
      S.title = S.me.title || 'Chat';
      $('app-title').textContent = S.title;
      document.title = S.title;
      $('user-name').textContent = S.me.user || '';
      $('user-initial').textContent = (S.me.user || '?').charAt(0);
      $('logout').hidden = S.me.auth !== 'form';
      var types = (S.me.upload && S.me.upload.types) || [];
      if (types.length) $('file-input').accept = types.join(',');
      if (window.innerWidth < 520) ta.placeholder = 'Ask a question\u2026';
      app.classList.remove('is-loading');
      loadThreads(true);
      route();
      updateSend();
      if (!isMobile()) ta.focus();
    }, function (e) {
      if (e.status === 401) return;
      app.classList.remove('is-loading');
      log.textContent = '';
      var w = E('div', 'msg');
      var n = notice('The chat cannot start: ' + e.message);
      var b = E('button', 'btn btn-small', 'Try again');
      b.type = 'button';
      b.addEventListener('click', function () { location.reload(); });
      n.appendChild(b);
      w.appendChild(n);
      log.appendChild(w);
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
