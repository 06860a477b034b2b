// Uploads: file chooser, drop, paste, chips, progress, limits and errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appReady, currentThread, script, api, artifact, openSession, closeSession } from './helpers.mjs';

let server, browser, page;

before(async () => {
  ({ server, browser, page } = await openSession());
});
after(() => closeSession({ server, browser }));

/* Records every value the progress bar shows. */
async function watchProgress(p) {
  await p.evaluate(() => {
    window.__progress = [];
    const bar = document.querySelector('#progressbar');
    new MutationObserver(() => window.__progress.push(Number(bar.getAttribute('aria-valuenow')))).observe(bar, { attributes: true });
    new MutationObserver(() => { if (!document.querySelector('#upload-progress').hidden) window.__progressShown = true; })
      .observe(document.querySelector('#upload-progress'), { attributes: true });
  });
}

test('the file chooser: chips (removable), a progress bar, the backend message in a new thread', async () => {
  const big = Buffer.alloc(6 * 1024 * 1024, 'a');
  const chooser = page.waitForEvent('filechooser');
  await page.click('#attach');
  await (await chooser).setFiles([
    { name: 'report.txt', mimeType: 'text/plain', buffer: big },
    { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n') },
    { name: 'extra.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,2\n') },
  ]);
  await page.waitForSelector('#chips .file-chip >> nth=2');
  assert.deepEqual(await page.$$eval('#chips .file-chip .name', (n) => n.map((x) => x.textContent)), ['report.txt', 'notes.md', 'extra.csv']);
  await page.click('#chips [aria-label="Remove extra.csv"]');
  assert.deepEqual(await page.$$eval('#chips .file-chip .name', (n) => n.map((x) => x.textContent)), ['report.txt', 'notes.md']);
  await watchProgress(page);
  await script(server, { delay: 1.0 });          // the backend takes a second to ingest
  const started = Date.now();
  const req = page.waitForRequest((r) => r.url().endsWith('api/upload') && r.method() === 'POST');
  await page.click('#send');
  assert.match((await req).headers()['content-type'], /^multipart\/form-data; boundary=/);
  await page.waitForFunction(() => !document.querySelector('#upload-progress').hidden);
  await page.screenshot({ path: artifact('upload-progress.png') });
  await page.waitForSelector('.msg.assistant .md:has-text("Ingested")', { timeout: 30000 });
  const progress = await page.evaluate(() => window.__progress);
  assert.ok(await page.evaluate(() => window.__progressShown), 'the progress bar showed');
  assert.ok(progress.length >= 2 && progress[progress.length - 1] === 100, 'progress went up to 100: ' + progress.join(','));
  assert.ok(Date.now() - started >= 900);
  assert.equal(await page.isHidden('#upload-progress'), true, 'the bar hides when done');
  assert.equal(await page.isHidden('#chips'), true, 'the chips are cleared');
  const tid = await currentThread(page);
  assert.ok(tid, 'the response thread_id is the current thread');
  assert.deepEqual(await page.$$eval('.msg.user .file-chip .name', (n) => n.map((x) => x.textContent)), ['report.txt', 'notes.md']);
  const t = await api(page, 'GET', 'api/threads/' + tid);
  assert.deepEqual(t.json.elements.map((e) => e.name).sort(), ['notes.md', 'report.txt'], 'the removed file was not sent');
  // the same on the server, and after a reload
  await page.reload();
  await appReady(page);
  await page.waitForSelector('.msg.assistant');
  assert.match(await page.textContent('.msg.assistant >> nth=-1'), /Ingested 2 documents/);
  assert.deepEqual((await page.$$eval('.file-chip .name', (n) => n.map((x) => x.textContent))).sort(), ['notes.md', 'report.txt']);
});

test('a synthetic drop shows the overlay, and the files go to the current thread', async () => {
  const tid = await currentThread(page);
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped text'], 'dropped.txt', { type: 'text/plain' }));
    window.__dt = dt;
    document.querySelector('#log').dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: dt }));
  });
  assert.equal(await page.isVisible('#drop'), true, 'the drop overlay shows');
  await page.evaluate(() => {
    document.querySelector('#log').dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: window.__dt }));
    document.querySelector('#log').dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: window.__dt }));
  });
  assert.equal(await page.isHidden('#drop'), true);
  await page.waitForSelector('#chips .file-chip .name:text("dropped.txt")');
  await page.press('#composer-input', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant').length >= 2);
  assert.equal(await currentThread(page), tid);
  const t = await api(page, 'GET', 'api/threads/' + tid);
  assert.ok(t.json.elements.some((e) => e.name === 'dropped.txt'), 'thread_id was sent: the file joined the thread');
  assert.match(await page.textContent('.msg.assistant >> nth=-1'), /Ingested 1/);
});

test('a pasted file becomes a chip', async () => {
  await page.focus('#composer-input');
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['pasted'], 'pasted.txt', { type: 'text/plain' }));
    const ev = new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: dt });
    document.querySelector('#composer-input').dispatchEvent(ev);
  });
  await page.waitForSelector('#chips .file-chip .name:text("pasted.txt")');
  await page.click('#chips [aria-label="Remove pasted.txt"]');
  assert.equal(await page.isHidden('#chips'), true);
});

test('limits: a refused type is explained before any upload; a server refusal (415/413) shows its message', async () => {
  const chooser = page.waitForEvent('filechooser');
  await page.click('#attach');
  await (await chooser).setFiles([{ name: 'program.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') }]);
  await page.waitForSelector('#composer-error:not([hidden])');
  assert.match(await page.textContent('#composer-error'), /program\.exe.*not an accepted type/);
  assert.equal(await page.isHidden('#chips'), true);
  // the server's own check, bypassing the page's: its JSON message is what users see
  const me = await page.evaluate(async () => (await fetch('api/me')).json());
  const r = await page.evaluate(async (csrf) => {
    const fd = new FormData();
    fd.append('files', new File(['MZ'], 'program.exe', { type: 'application/octet-stream' }));
    const x = await fetch('api/upload', { method: 'POST', headers: { 'X-CSRF-Token': csrf }, body: fd });
    return { status: x.status, json: await x.json().catch(() => null) };
  }, me.csrf);
  assert.equal(r.status, 415);
  assert.ok(r.json && r.json.error && r.json.error.message);
  // a backend refusal goes through the page's error path
  await script(server, { status: 413, body_message: 'the documents are too large for the index' });
  const chooser2 = page.waitForEvent('filechooser');
  await page.click('#attach');
  await (await chooser2).setFiles([{ name: 'ok.txt', mimeType: 'text/plain', buffer: Buffer.from('fine') }]);
  await page.click('#send');
  await page.waitForFunction(() => /Upload failed/.test(document.querySelector('#composer-error').textContent));
  assert.equal(await page.isVisible('#chips .file-chip'), true, 'the chips stay for another try');
  await page.click('#chips [aria-label="Remove ok.txt"]');
  assert.deepEqual(page.errors, []);
});

test('an answer can follow an upload with the message typed alongside', async () => {
  const chooser = page.waitForEvent('filechooser');
  await page.click('#attach');
  await (await chooser).setFiles([{ name: 'context.txt', mimeType: 'text/plain', buffer: Buffer.from('context') }]);
  await page.fill('#composer-input', 'Summarise it');
  await page.press('#composer-input', 'Enter');
  await page.waitForFunction(() => /Echo: Summarise it/.test(document.querySelector('.msg.assistant.latest:not(.live) .md')?.textContent || ''), null, { timeout: 20000 });
  const t = await api(page, 'GET', 'api/threads/' + await currentThread(page));
  assert.ok(t.json.elements.some((e) => e.name === 'context.txt'));
});

test('an upload can be cancelled; the files stay for another try', async () => {
  await page.click('#new-chat');
  await script(server, { delay: 6 });
  const chooser = page.waitForEvent('filechooser');
  await page.click('#attach');
  await (await chooser).setFiles([{ name: 'slow.txt', mimeType: 'text/plain', buffer: Buffer.from('slow') }]);
  await page.click('#send');
  await page.waitForSelector('#upload-cancel', { state: 'visible' });
  await page.click('#upload-cancel');
  await page.waitForSelector('#composer-error:not([hidden])');
  assert.match(await page.textContent('#composer-error'), /Upload cancelled/);
  assert.equal(await page.isHidden('#upload-progress'), true);
  assert.equal(await page.isVisible('#chips .file-chip'), true, 'the chips stay');
  assert.equal(await page.isEnabled('#attach'), true);
  assert.equal(await page.$('.msg.assistant'), null, 'nothing was added to the chat');
  await page.click('#chips [aria-label="Remove slow.txt"]');
});

test('the ingestion notice has no feedback, export or regenerate, live or reloaded', async () => {
  const chooser = page.waitForEvent('filechooser');
  await page.click('#attach');
  await (await chooser).setFiles([{ name: 'plain.txt', mimeType: 'text/plain', buffer: Buffer.from('plain') }]);
  await page.click('#send');
  await page.waitForSelector('.msg.assistant.ingest .md:has-text("Ingested")', { timeout: 20000 });
  const none = async () => page.$$eval('.msg.assistant.ingest [data-act], .msg.assistant.ingest .pdf-main', (x) => x.length);
  assert.equal(await none(), 0);
  assert.equal(await page.$$eval('.msg.user.upload [data-act=edit]', (x) => x.length), 0, 'an upload cannot be edited');
  await page.reload();
  await appReady(page);
  await page.waitForSelector('.msg.assistant.ingest');
  assert.equal(await none(), 0);
});
