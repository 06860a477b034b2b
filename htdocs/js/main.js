/* mod_ragchat browser app: plain ES2020 modules, no framework, no build step.
 * Everything is fetched relative to the page (B/), so the app works under any
 * base path. Security rules: answers are inserted only from the module's
 * rendered `html`; everything else (messages, names, file names) as text.
 * This module starts the app: theme, the page's own controls, routing. */
import { $, E, store, stored, app, log, ta } from './dom.js';
import { S } from './state.js';
import { api } from './api.js';
import { openMenu, closeMenu, toggleMenu, menuKeys, notice, mobileQuery, isMobile, setDrawer, toggleSidebar,
  composerError, updateSend, autoGrow } from './ui.js';
import { bindThreads, loadThreads } from './threads.js';
import { bindMessages, newChat, openThread } from './messages.js';
import { send, stopStream } from './stream.js';
import { bindUpload, upload } from './upload.js';

const root = document.documentElement;

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

/* ---------------------------------------------------------------- composer */
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

function route() {
  var m = /^#\/thread\/([^/?#]+)/.exec(location.hash);
  var id = m ? decodeURIComponent(m[1]) : new URLSearchParams(location.search).get('thread');
  if (id) { if (id !== S.threadId) openThread(id); }
  else if (S.threadId || !log.firstChild) newChat(false);
}

function bind() {
  bindMessages();
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
  bindThreads();

  $('composer').addEventListener('submit', function (e) { e.preventDefault(); submit(); });
  ta.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) { e.preventDefault(); submit(); }
  });
  ta.addEventListener('input', function () { autoGrow(); updateSend(); });
  bindUpload();

  $('logout').addEventListener('click', function () { logout(false); });
  $('logout-all').addEventListener('click', function () { logout(true); });
  $('account-btn').addEventListener('click', function (e) {
    toggleMenu(e.currentTarget, $('account-menu'), { keyboard: e.detail === 0, left: true });
  });

  document.addEventListener('keydown', function (e) {
    menuKeys(e);
    if (e.defaultPrevented) return;
    if (e.key === 'Escape') {
      if (openMenu) closeMenu(true);
      else if (app.classList.contains('nav-open')) { setDrawer(false); $('menu').focus(); }
      else if (S.stream && !document.querySelector('dialog[open]')) { e.preventDefault(); stopStream(); }
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

/* Form login: ends this session, or (everywhere) every session of the user. */
function logout(everywhere) {
  var fields = { csrf: S.csrf };
  if (everywhere) fields.everywhere = '1';
  fetch('logout', { method: 'POST', credentials: 'same-origin', redirect: 'manual',
    headers: { 'X-CSRF-Token': S.csrf, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields) })
    .catch(function () { /* go anyway */ })
    .then(function () { location.href = 'login'; });
}

/* The account menu: log out everywhere (form login); the site's own logout
 * (RagChatLogoutURL); with Basic auth, where the login is held. */
function showAccount(me) {
  var form = me.auth === 'form';
  $('logout').hidden = !form;
  $('logout-all').hidden = !form;
  $('logout-site').hidden = form || !me.logout_url;
  if (me.logout_url) $('logout-site').href = me.logout_url;
  $('login-note').hidden = form || !!me.logout_url || me.auth_type !== 'Basic';
  $('account-wrap').hidden = $('logout-all').hidden && $('logout-site').hidden && $('login-note').hidden;
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
    showAccount(S.me);
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

start();
