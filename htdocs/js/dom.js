/* Element helpers, local storage, sizes, and the page's fixed elements.
 * Module scripts run once the document is parsed, so those elements exist. */

export const $ = function (id) { return document.getElementById(id); };
export function E(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}
export function icon(name) { var s = E('span', 'ico i-' + name); s.setAttribute('aria-hidden', 'true'); return s; }
export function iconBtn(act, label, ico) {
  var b = E('button', 'icon-btn');
  b.type = 'button';
  if (act) b.dataset.act = act;
  b.setAttribute('aria-label', label);
  b.title = label;
  b.appendChild(icon(ico));
  return b;
}
export const enc = encodeURIComponent;
export function store(k, v) { try { if (v == null) localStorage.removeItem(k); else localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
export function stored(k) { try { return localStorage.getItem(k); } catch (e) { return null; } }

export function fmtSize(n) {
  n = Number(n) || 0;
  if (n < 1024) return n + ' B';
  if (n < 1048576) return (n / 1024).toFixed(n < 10240 ? 1 : 0) + ' KB';
  return (n / 1048576).toFixed(n < 10485760 ? 1 : 0) + ' MB';
}

export const app = $('app'), log = $('log'), ta = $('composer-input');
