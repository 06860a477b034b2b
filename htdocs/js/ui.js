/* Shared pieces of the interface: toast, clipboard, confirmation dialog, menus,
 * notices, the sidebar drawer, and the composer's state. */
import { $, E, icon, store, app, ta } from './dom.js';
import { S } from './state.js';

var toastTimer;
export function toast(msg) {
  var t = $('toast');
  t.textContent = msg;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () { t.classList.remove('show'); }, 2200);
}

export function copyText(text) {
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
export function flashCopied(btn) {
  var ic = btn.querySelector('.ico');
  if (ic) ic.className = 'ico i-check';
  setTimeout(function () { if (ic) ic.className = 'ico i-copy'; }, 1500);
  toast('Copied to the clipboard');
}

export function confirmDialog(title, text, ok) {
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
export var openMenu = null;
export function closeMenu(focusBtn) {
  if (!openMenu) return;
  var m = openMenu;
  openMenu = null;
  m.menu.hidden = true;
  m.btn.setAttribute('aria-expanded', 'false');
  var host = m.btn.closest('.msg');
  if (host) host.classList.remove('menu-open');
  if (focusBtn) m.btn.focus();
}
export function toggleMenu(btn, menu, opts) {
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
export function menuKeys(e) {
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

export function notice(text, retry) {
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

/* ---------------------------------------------------------------- sidebar */
export const mobileQuery = window.matchMedia('(max-width: 768px)');
export function isMobile() { return mobileQuery.matches; }
export function setDrawer(open) {
  app.classList.toggle('nav-open', open);
  $('scrim').hidden = !open;
  $('menu').setAttribute('aria-expanded', String(open));
  if (open) $('new-chat').focus();
}
export function toggleSidebar(show) {
  if (isMobile()) { setDrawer(show); return; }
  app.classList.toggle('nav-collapsed', !show);
  $('menu').setAttribute('aria-expanded', String(show));
  store('ragchat.sidebar', show ? null : 'collapsed');
  (show ? $('collapse') : $('menu')).focus();
}

/* ---------------------------------------------------------------- composer */
export function updateSend() {
  $('send').disabled = S.uploading || (!ta.value.trim() && !S.files.length);
}

export function composerError(msg) {
  var e = $('composer-error');
  e.textContent = msg || '';
  e.hidden = !msg;
}

export function autoGrow() {
  ta.style.height = 'auto';
  ta.style.height = Math.min(ta.scrollHeight, Math.round(window.innerHeight * 0.4)) + 'px';
}
