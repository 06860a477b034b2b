// The sidebar: grouping, infinite scroll, search, rename, delete, the phone drawer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { newPage, appReady, ask, answered, currentThread, sql, stamp, api, openSession, closeSession } from './helpers.mjs';

let server, browser, page;
const DAY = 864e5;

before(async () => {
  ({ server, browser, page } = await openSession());
});
after(() => closeSession({ server, browser }));

test('threads are grouped by age and load page after page on scroll', async () => {
  await ask(page, 'The newest chat');
  await answered(page);
  // 64 older threads of alice (and one of bob, never shown), 12 hours apart
  const rows = [];
  for (let i = 1; i <= 64; i++) {
    rows.push(`('${crypto.randomUUID()}','${stamp(-i * DAY / 2 - 60000)}','Seeded chat ${String(i).padStart(2, '0')}',` +
      `(SELECT id FROM users WHERE identifier='alice'),'alice',NULL,'{}')`);
  }
  rows.push(`('${crypto.randomUUID()}','${stamp(-3600e3)}','Bob secret chat',NULL,'bob',NULL,'{}')`);
  sql(server, 'INSERT INTO threads (id,"createdAt",name,"userId","userIdentifier",tags,metadata) VALUES ' + rows.join(',') + ';');
  await page.reload();
  await appReady(page);
  await page.waitForSelector('.thread');
  const labels = await page.$$eval('.group-label', (h) => h.map((x) => x.textContent));
  assert.deepEqual(labels.slice(0, 2), ['Today', 'Yesterday']);
  assert.ok(labels.includes('Previous 7 days') && labels.includes('Previous 30 days'), labels.join('|'));
  const first = await page.$$eval('.thread-link', (a) => a.length);
  assert.ok(first <= 31, 'the first page holds at most 30 (+ the new one): ' + first);
  // scroll the list to its end until everything is there
  for (let i = 0; i < 20; i++) {
    const n = await page.$$eval('.thread-link', (a) => a.length);
    if (n >= 65) break;
    await page.$eval('#threads', (nav) => { nav.scrollTop = nav.scrollHeight; });
    await page.waitForTimeout(300);
  }
  const names = await page.$$eval('.thread-link', (a) => a.map((x) => x.textContent));
  assert.equal(names.length, 65);
  assert.equal(new Set(names).size, 65, 'no thread twice');
  assert.ok(names.includes('Seeded chat 64'));
  assert.ok(!names.includes('Bob secret chat'), 'another user\'s thread never shows');
  assert.ok((await page.$$eval('.group-label', (h) => h.map((x) => x.textContent))).includes('Older'));
});

test('search asks the server (debounced) and shows only matches', async () => {
  const requests = [];
  const onReq = (r) => { if (r.url().includes('api/threads?')) requests.push(r.url()); };
  page.on('request', onReq);
  await page.click('#search');
  await page.keyboard.type('chat 4', { delay: 40 });
  await page.waitForFunction(() => [...document.querySelectorAll('.thread-link')].every((a) => /chat 4/i.test(a.textContent)) && document.querySelectorAll('.thread-link').length > 0);
  const names = await page.$$eval('.thread-link', (a) => a.map((x) => x.textContent));
  assert.ok(names.includes('Seeded chat 40') && names.includes('Seeded chat 41'), names.join('|'));
  page.off('request', onReq);
  const searches = requests.filter((u) => /[?&]q=/.test(u));
  assert.ok(searches.length >= 1 && searches.length <= 3, 'debounced: ' + searches.length + ' searches for 6 keystrokes');
  assert.ok(searches.some((u) => /q=chat(%20|\+)4/.test(u)));
  await page.fill('#search', 'no such chat zzz');
  await page.waitForSelector('#threads-empty:not([hidden])');
  assert.match(await page.textContent('#threads-empty'), /No chats match/);
  await page.fill('#search', '');
  await page.waitForFunction(() => document.querySelectorAll('.thread-link').length >= 30);
});

test('rename inline from the sidebar; the name survives a reload', async () => {
  const tid = await currentThread(page);
  const item = `.thread[data-id="${tid}"]`;
  await page.hover(item);
  await page.click(`${item} [data-act=rename]`);
  await page.fill(`${item} input.thread-rename`, 'Renamed by the e2e test');
  await page.press(`${item} input.thread-rename`, 'Enter');
  await page.waitForFunction((sel) => document.querySelector(sel + ' .thread-link').textContent === 'Renamed by the e2e test', item);
  assert.equal(await page.textContent('#thread-title'), 'Renamed by the e2e test');
  assert.match(await page.title(), /^Renamed by the e2e test/);
  await page.reload();
  await appReady(page);
  await page.waitForSelector(item);
  assert.equal(await page.textContent(`${item} .thread-link`), 'Renamed by the e2e test');
  // Escape cancels
  await page.hover(item);
  await page.click(`${item} [data-act=rename]`);
  await page.fill(`${item} input.thread-rename`, 'Not this');
  await page.press(`${item} input.thread-rename`, 'Escape');
  assert.equal(await page.textContent(`${item} .thread-link`), 'Renamed by the e2e test');
  // from the conversation menu
  await page.click('#thread-menu-btn');
  await page.click('#thread-rename');
  await page.fill('.titles input.thread-rename', 'Renamed from the menu');
  await page.press('.titles input.thread-rename', 'Enter');
  await page.waitForFunction(() => document.querySelector('#thread-title').textContent === 'Renamed from the menu');
  const t = await api(page, 'GET', 'api/threads/' + tid);
  assert.equal(t.json.name, 'Renamed from the menu');
});

test('delete asks first; Cancel keeps, Delete removes (and the thread is gone on the server)', async () => {
  const tid = await currentThread(page);
  const item = `.thread[data-id="${tid}"]`;
  await page.hover(item);
  await page.click(`${item} [data-act=delete]`);
  await page.waitForSelector('#confirm[open]');
  assert.match(await page.textContent('#confirm-text'), /Renamed from the menu/);
  await page.click('#confirm button[value=cancel]');
  await page.waitForSelector('#confirm:not([open])', { state: 'attached' });
  assert.ok(await page.$(item), 'Cancel keeps it');
  await page.hover(item);
  await page.click(`${item} [data-act=delete]`);
  await page.click('#confirm-ok');
  await page.waitForSelector(item, { state: 'detached' });
  await page.waitForSelector('.welcome');
  assert.equal(await currentThread(page), null, 'the open thread was deleted: a new chat shows');
  assert.equal((await api(page, 'GET', 'api/threads/' + tid)).status, 404);
  assert.deepEqual(page.dialogs, [], 'no native confirm()');
});

test('New chat, thread links and the browser history', async () => {
  await page.click('.thread-link >> nth=0');
  await page.waitForSelector('.thread.active');
  const first = await currentThread(page);
  assert.ok(first);
  await page.click('.thread-link >> nth=1');
  await page.waitForFunction((f) => location.hash && !location.hash.includes(f), first);
  await page.waitForSelector('.thread.active');
  await page.goBack();
  await page.waitForFunction((f) => location.hash.includes(f) && document.querySelector('.thread.active')?.dataset.id === f, first);
  await page.click('#new-chat');
  await page.waitForSelector('.welcome');
  assert.equal(await currentThread(page), null);
  assert.equal(await page.$('.thread.active'), null);
});

test('phones: the sidebar is a drawer, and the page fits 360 px', async () => {
  const ctx = page.context();
  const phone = await ctx.newPage();
  await phone.setViewportSize({ width: 360, height: 740 });
  await phone.goto(server.base);
  await appReady(phone);
  assert.equal(await phone.isVisible('#sidebar'), false, 'the drawer is closed');
  await phone.click('#menu');
  await phone.waitForSelector('#sidebar .thread-link', { state: 'visible' });
  assert.equal(await phone.isVisible('#scrim'), true);
  await phone.click('.thread-link >> nth=0');
  await phone.waitForSelector('.thread.active', { state: 'attached' });
  await phone.waitForFunction(() => !document.querySelector('#app').classList.contains('nav-open'));
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, 'no horizontal scroll at 360 px');
  await phone.close();
});
