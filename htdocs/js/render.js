/* Answers as the module rendered them, made readable: code blocks with their
 * language and a Copy button, highlighted by Debian's highlight.js; LaTeX
 * typeset by Debian's KaTeX (both served by the app, loaded on first use, so
 * the first load stays small); tables that scroll sideways; links that open
 * in a new tab; an answer's sources. morph() updates a streaming answer in
 * place, block by block, so what did not change (and a selection in it)
 * stays. Everything is inserted from the module's HTML or as text. */
import { E, icon } from './dom.js';

var hljsP = null, katexP = null;

/* highlight.js and KaTeX are classic scripts that set window.hljs and
 * window.katex; import() runs them under the page's CSP ('self'). */
function loadHljs() {
  if (!hljsP) {
    hljsP = import('../vendor/highlight.min.js').then(function () { return window.hljs || null; },
      function () { return null; });
  }
  return hljsP;
}
function loadKatex() {
  if (!katexP) {
    var css = E('link');
    css.rel = 'stylesheet';
    css.href = new URL('../vendor/katex/katex.min.css', import.meta.url).href;
    document.head.appendChild(css);
    katexP = import('../vendor/katex/katex.min.js').then(function () { return window.katex || null; },
      function () { return null; });
  }
  return katexP;
}

function langOf(code) {
  var m = code && /(?:^|\s)language-([\w+#.-]+)/.exec(code.className);
  return m ? m[1] : '';
}

function highlight(code) {
  var lang = langOf(code);
  if (!lang || code.dataset.hl) return;
  code.dataset.hl = '1';
  loadHljs().then(function (hljs) {
    if (!hljs || !hljs.getLanguage(lang)) return;
    if (hljs.highlightElement) hljs.highlightElement(code); else hljs.highlightBlock(code);
  });
}

function typeset(el) {
  if (el.dataset.tex != null) return;
  el.dataset.tex = el.textContent;
  loadKatex().then(function (katex) {
    if (!katex) return;
    try {
      katex.render(el.dataset.tex, el, { displayMode: el.classList.contains('math-display'), throwOnError: false });
      el.classList.add('typeset');
    } catch (e) { /* left as TeX */ }
  });
}

function codeBlock(pre) {
  var w = E('div', 'code-wrap');
  var bar = E('div', 'code-bar');
  var lang = langOf(pre.querySelector('code'));
  bar.appendChild(E('span', 'code-lang', lang || 'code'));
  var copy = E('button', 'code-copy');
  copy.type = 'button';
  copy.dataset.act = 'copy-code';
  copy.setAttribute('aria-label', 'Copy the code' + (lang ? ' (' + lang + ')' : ''));
  copy.append(icon('copy'), document.createTextNode('Copy'));
  bar.appendChild(copy);
  pre.replaceWith(w);
  /* a block wider than the answer scrolls: it must be reachable by keyboard */
  pre.tabIndex = 0;
  w.append(bar, pre);
}

/* Makes the module's HTML under root readable (idempotent). */
export function enhance(root) {
  root.querySelectorAll('pre').forEach(function (pre) {
    if (!pre.parentNode.classList.contains('code-wrap')) codeBlock(pre);
    highlight(pre.querySelector('code'));
  });
  root.querySelectorAll('table').forEach(function (t) {
    if (t.parentNode.classList.contains('table-wrap')) return;
    var w = E('div', 'table-wrap');
    w.tabIndex = 0;
    t.replaceWith(w);
    w.appendChild(t);
  });
  root.querySelectorAll('a[href]').forEach(function (a) {
    if (/^(https?:)?\/\//i.test(a.getAttribute('href'))) { a.target = '_blank'; a.rel = 'noopener noreferrer'; }
  });
  root.querySelectorAll('.math').forEach(typeset);
}

/* Replaces root's content by html, keeping the blocks that did not change
 * (their source is remembered): a streaming answer's earlier paragraphs,
 * and a selection in them, stay as they are. */
export function morph(root, html) {
  var t = document.createElement('template');
  t.innerHTML = html;
  var fresh = Array.prototype.filter.call(t.content.childNodes, function (n) {
    return n.nodeType === 1 || (n.nodeType === 3 && n.data.trim());
  });
  var old = Array.prototype.filter.call(root.childNodes, function (n) {
    return n.nodeType === 1 || (n.nodeType === 3 && n.data.trim());
  });
  var i;
  for (i = 0; i < fresh.length; i++) {
    var src = fresh[i].nodeType === 1 ? fresh[i].outerHTML : fresh[i].data;
    if (old[i] && old[i].rcSrc === src) continue;
    var holder = E('div');
    holder.appendChild(fresh[i]);
    enhance(holder);
    var node = holder.firstChild;
    node.rcSrc = src;
    if (old[i]) old[i].replaceWith(node); else root.appendChild(node);
  }
  for (; i < old.length; i++) old[i].remove();
  /* stray white space between blocks */
  Array.prototype.forEach.call(root.childNodes, function (n) {
    if (n.nodeType === 3 && !n.data.trim()) n.remove();
  });
}

/* The sources of an answer (its metadata's "sources"), as a collapsed list. */
export function sourcesBlock(list) {
  var d = E('details', 'sources');
  var s = E('summary', null, 'Sources (' + list.length + ')');
  d.appendChild(s);
  var ol = E('ol');
  list.forEach(function (src) {
    var li = E('li');
    var title = src.url ? E('a', 'src-title', src.title || src.url) : E('span', 'src-title', src.title || 'Source');
    if (src.url) { title.href = src.url; title.target = '_blank'; title.rel = 'noopener noreferrer'; }
    li.appendChild(title);
    var where = [];
    if (src.file && src.file !== src.title) where.push(src.file);
    if (src.page != null && src.page !== '') where.push('page ' + src.page);
    if (src.passage != null) where.push('passage ' + src.passage);
    if (where.length) li.append(' ', E('span', 'src-where', where.join(', ')));
    if (typeof src.score === 'number') {
      var sc = E('span', 'src-score');
      sc.append(E('span', 'visually-hidden', 'score '), src.score.toFixed(2));
      sc.title = 'Relevance score';
      li.append(' ', sc);
    }
    if (src.snippet) li.appendChild(E('q', 'src-snippet', src.snippet));
    ol.appendChild(li);
  });
  d.appendChild(ol);
  return d;
}
