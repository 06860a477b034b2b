// Hostile text in a message, an answer, a thread name and a file name stays inert.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appReady, ask, answered, currentThread, script, api, assertInert, openSession, closeSession } from './helpers.mjs';

let server, browser, page;
const IMG = '<img src=x onerror=alert(1)>';
const SCRIPT = '<script>alert(1)</script>';
const MORE = '"><svg onload=alert(2)><a href="javascript:alert(3)">x</a>';

before(async () => {
  ({ server, browser, page } = await openSession());
});
after(() => closeSession({ server, browser }));

test('payloads in a message and in the answer are shown as text', async () => {
  const msg = `Hi ${IMG} and ${SCRIPT} ${MORE}`;
  await script(server, { tokens: ['Echo ', IMG, ' ', SCRIPT, '\n\n', '| h |\n|---|\n| ' + IMG + ' |\n', MORE], delay: 0.1 });
  await ask(page, msg);
  await answered(page);
  assert.equal(await page.locator('.msg.user').last().textContent(), msg, 'the message is shown literally');
  await assertInert(page, assert);
  // the thread name (the first message) in the sidebar, the header and the title
  const tid = await currentThread(page);
  await page.waitForSelector(`.thread[data-id="${tid}"] .thread-link`);
  assert.match(await page.textContent(`.thread[data-id="${tid}"] .thread-link`), /<img src=x onerror=alert\(1\)>/);
  await page.reload();
  await appReady(page);
  await page.waitForSelector('.msg.assistant');
  await page.waitForTimeout(300);
  assert.equal(await page.locator('.msg.user').last().textContent(), msg);
  await assertInert(page, assert);
});

test('a hostile thread name from rename stays text everywhere, also in the delete dialog', async () => {
  const tid = await currentThread(page);
  const name = `${IMG}${SCRIPT}`;
  const r = await api(page, 'PATCH', 'api/threads/' + tid, { name });
  assert.equal(r.status, 200);
  await page.reload();
  await appReady(page);
  await page.waitForSelector(`.thread[data-id="${tid}"]`);
  assert.equal(await page.textContent(`.thread[data-id="${tid}"] .thread-link`), name);
  assert.equal(await page.textContent('#thread-title'), name);
  assert.match(await page.title(), /<img src=x/);
  await page.hover(`.thread[data-id="${tid}"]`);
  await page.click(`.thread[data-id="${tid}"] [data-act=delete]`);
  await page.waitForSelector('#confirm[open]');
  assert.match(await page.textContent('#confirm-text'), /<script>alert\(1\)<\/script>/);
  await page.click('#confirm button[value=cancel]');
  // search for it: the results render the same way
  await page.fill('#search', 'onerror');
  await page.waitForFunction((id) => {
    const links = [...document.querySelectorAll('.thread-link')];
    return links.some((a) => a.closest('.thread').dataset.id === id) && !links.some((a) => /Seeded|Echo/.test(a.textContent));
  }, tid);
  await assertInert(page, assert);
  await page.fill('#search', '');
});

test('a hostile file name stays text in the chips, the thread and the sidebar', async () => {
  await page.click('#new-chat');
  // no '/' in it: the module keeps only the part after the last '/' (a path is never a name)
  const fname = `${IMG}<svg onload=alert(2)>.txt`;
  const chooser = page.waitForEvent('filechooser');
  await page.click('#attach');
  await (await chooser).setFiles([{ name: fname, mimeType: 'text/plain', buffer: Buffer.from('x') }]);
  await page.waitForSelector('#chips .file-chip');
  assert.equal(await page.textContent('#chips .file-chip .name'), fname);
  await assertInert(page, assert);
  await page.click('#send');
  await page.waitForSelector('.msg.assistant');
  await page.waitForSelector('.msg.user .file-chip');
  const tid = await currentThread(page);
  assert.ok(tid);
  await page.reload();
  await appReady(page);
  await page.waitForSelector('.msg.user .file-chip, .msg.user .bubble');
  const shown = await page.evaluate(() => document.querySelector('#log').textContent);
  assert.ok(shown.includes(fname), 'the file name shows literally');
  await assertInert(page, assert);
  await page.waitForTimeout(500);
  assert.deepEqual(page.dialogs, []);
  assert.deepEqual(page.errors, []);
});
