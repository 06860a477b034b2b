/* Uploads: files chosen, dropped or pasted, checked against the types and
 * sizes of api/me, shown as chips, sent with progress, then shown as a message. */
import { $, fmtSize, log, ta } from './dom.js';
import { S } from './state.js';
import { errorText, toLogin } from './api.js';
import { toast, composerError, updateSend, autoGrow } from './ui.js';
import { adoptThread } from './threads.js';
import { fileChip, userMsg, assistantMsg, markLatest, toBottom } from './messages.js';
import { send } from './stream.js';

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

export function upload(text) {
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
    S.uploadXhr = xhr;
    xhr.open('POST', 'api/upload');
    xhr.setRequestHeader('X-CSRF-Token', S.csrf);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) setProgress(e.loaded / e.total, Math.round(100 * e.loaded / e.total) + '% of ' + fmtSize(total));
    };
    var sent = false;
    xhr.upload.onload = function () { sent = true; setProgress(1, 'Processing\u2026'); };
    function done(ok, msg) {
      S.uploading = false;
      S.uploadXhr = null;
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
    xhr.onerror = function () { done(false, 'Upload failed: the server cannot be reached. Check your connection and try again.'); };
    xhr.onabort = function () {
      done(false, sent ? 'Upload cancelled. The files had already been sent: the assistant may still take them in.'
        : 'Upload cancelled.');
    };
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
    adoptThread(j.thread_id, list.map(function (f) { return f.name; }).join(', '));
  }
  log.appendChild(userMsg('', null, list));
  /* the module's notice of the ingestion: not an answer to rate or export */
  log.appendChild(assistantMsg({ id: j.step_id, output: j.message || '', html: null, feedback: null }, null,
    { notice: true }));
  markLatest();
  toBottom();
}

export function bindUpload() {
  ta.addEventListener('paste', function (e) {
    var cd = e.clipboardData;
    if (cd && cd.files && cd.files.length && !cd.getData('text/plain')) { e.preventDefault(); addFiles(cd.files); }
  });
  $('attach').addEventListener('click', function () { $('file-input').click(); });
  $('upload-cancel').addEventListener('click', function () { if (S.uploadXhr) S.uploadXhr.abort(); });
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
