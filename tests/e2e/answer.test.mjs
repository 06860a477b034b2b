// Per-answer actions (PDF, copy, feedback), exports, themes, screenshots, first-load size, keyboard, logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { newPage, login, appReady, ask, answered, currentThread, script, api, artifact, openSession, closeSession } from './helpers.mjs';

let server, browser, page, stepId, firstStep;

before(async () => {
  ({ server, browser, page } = await openSession());
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.base).origin });
});
after(() => closeSession({ server, browser }));

test('first load of B/ transfers at most 100 KB', async () => {
  const fresh = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await fresh.addCookies(await page.context().cookies());
  const p = await fresh.newPage();
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const sizes = new Map();
  cdp.on('Network.responseReceived', (e) => sizes.set(e.requestId, { url: e.response.url, bytes: 0 }));
  cdp.on('Network.loadingFinished', (e) => { const s = sizes.get(e.requestId); if (s) s.bytes = e.encodedDataLength; });
  await p.goto(server.base, { waitUntil: 'networkidle' });
  await appReady(p);
  await p.waitForTimeout(300);
  const list = [...sizes.values()].filter((s) => !s.url.startsWith('data:'));
  const total = list.reduce((n, s) => n + s.bytes, 0);
  console.log('# first load: %d bytes in %d responses\n# %s', total, list.length,
    list.map((s) => `${s.bytes}\t${s.url.replace(server.base, 'B/')}`).join('\n# '));
  assert.ok(list.some((s) => s.url.endsWith('static/js/main.js')) && list.some((s) => s.url.endsWith('static/app.css')));
  assert.ok(total > 0 && total <= 100 * 1024, `first load ${total} bytes`);
  await fresh.close();
});

test('the latest answer has a prominent Download PDF; earlier ones have it in their menu', async () => {
  const report = { tokens: ['# Report\n\n', 'Some **bold** text.\n\n', '```\ncode line\n```\n'] };
  await script(server, report, report);
  await ask(page, 'First question');
  firstStep = await answered(page);
  await ask(page, 'Second question');
  stepId = await answered(page);
  assert.notEqual(firstStep, stepId);
  assert.equal(await page.isVisible(`.msg[data-step="${stepId}"] .pdf-main`), true);
  assert.equal(await page.isVisible(`.msg[data-step="${firstStep}"] .pdf-main`), false, 'only the latest has the big button');
  const dl = page.waitForEvent('download');
  await page.click(`.msg[data-step="${stepId}"] .pdf-main`);
  const d = await dl;
  const file = await d.path();
  const head = fs.readFileSync(file).subarray(0, 5).toString('latin1');
  assert.equal(head, '%PDF-');
  assert.match(d.suggestedFilename(), /\.pdf$/i);
  // the earlier answer: "…" menu
  await page.click(`.msg[data-step="${firstStep}"] [data-act=more]`);
  const item = `.msg[data-step="${firstStep}"] .menu a.pdf-in-menu`;
  await page.waitForSelector(item, { state: 'visible' });
  const dl2 = page.waitForEvent('download');
  await page.click(item);
  const f2 = await (await dl2).path();
  assert.equal(fs.readFileSync(f2).subarray(0, 5).toString('latin1'), '%PDF-');
});

test('thread menu exports PDF and Markdown', async () => {
  const tid = await currentThread(page);
  await page.click('#thread-menu-btn');
  assert.equal(await page.getAttribute('#export-pdf', 'href'), `api/threads/${tid}/export.pdf`);
  const dl = page.waitForEvent('download');
  await page.click('#export-pdf');
  assert.equal(fs.readFileSync(await (await dl).path()).subarray(0, 5).toString('latin1'), '%PDF-');
  await page.click('#thread-menu-btn');
  const dl2 = page.waitForEvent('download');
  await page.click('#export-md');
  const md = fs.readFileSync(await (await dl2).path(), 'utf8');
  assert.match(md, /First question/);
  assert.match(md, /Second question/);
});

test('copy buttons: the whole answer, and a code block', async () => {
  await page.click(`.msg[data-step="${stepId}"] [data-act=copy]`);
  await page.waitForSelector('#toast.show');
  const all = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(all, /Some \*\*bold\*\* text\./, 'the answer is copied as markdown');
  await page.hover(`.msg[data-step="${stepId}"] pre`);
  await page.click(`.msg[data-step="${stepId}"] .code-copy`);
  await page.waitForFunction(async () => (await navigator.clipboard.readText()).trim() === 'code line');
});

test('feedback: thumbs with an optional comment, saved; the same thumb again removes it', async () => {
  const m = `.msg[data-step="${stepId}"]`;
  await page.click(`${m} [data-act=up]`);
  await page.waitForSelector(`${m} [data-act=up][aria-pressed=true]`);
  await page.fill(`${m} .feedback-form input`, 'Clear and short');
  await page.press(`${m} .feedback-form input`, 'Enter');
  await page.waitForSelector(`${m} .feedback-note`);
  await page.click(`.msg[data-step="${firstStep}"] [data-act=down]`);
  await page.waitForSelector(`.msg[data-step="${firstStep}"] [data-act=down][aria-pressed=true]`);
  await page.reload();
  await appReady(page);
  await page.waitForSelector(m);
  assert.equal(await page.getAttribute(`${m} [data-act=up]`, 'aria-pressed'), 'true');
  assert.equal(await page.getAttribute(`${m} [data-act=down]`, 'aria-pressed'), 'false');
  assert.match(await page.textContent(`${m} .feedback-note`), /Clear and short/);
  assert.equal(await page.getAttribute(`.msg[data-step="${firstStep}"] [data-act=down]`, 'aria-pressed'), 'true');
  const t = await api(page, 'GET', 'api/threads/' + await currentThread(page));
  const s = t.json.steps.find((x) => x.id === stepId);
  assert.deepEqual(s.feedback, { value: 1, comment: 'Clear and short' });
  // clicking the same thumb again deletes it
  await page.click(`.msg[data-step="${firstStep}"] [data-act=down]`);
  await page.waitForSelector(`.msg[data-step="${firstStep}"] [data-act=down][aria-pressed=false]`);
  await page.reload();
  await appReady(page);
  await page.waitForSelector(m);
  assert.equal(await page.getAttribute(`.msg[data-step="${firstStep}"] [data-act=down]`, 'aria-pressed'), 'false');
});

test('themes: follows the system, the toggle wins and is remembered; screenshots', async () => {
  const dark = await newPage(browser, { colorScheme: 'dark' });
  await dark.context().addCookies(await page.context().cookies());
  await dark.goto(server.base + '#/thread/' + await currentThread(page));
  await appReady(dark);
  await dark.waitForSelector('.msg.assistant');
  const bg = () => dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const darkBg = await bg();
  assert.ok(luminance(darkBg) < 0.2, 'dark by the system setting: ' + darkBg);
  await dark.screenshot({ path: artifact('desktop-dark.png') });
  await dark.click('#theme');
  assert.ok(luminance(await bg()) > 0.8, 'the toggle switches to light');
  await dark.reload();
  await appReady(dark);
  assert.ok(luminance(await bg()) > 0.8, 'remembered across reloads');
  await dark.click('#theme');
  assert.ok(luminance(await bg()) < 0.2);
  await dark.close();
  await page.screenshot({ path: artifact('desktop-light.png') });
});

test('360 px wide: readable, no horizontal scroll; screenshots', async () => {
  const phone = await newPage(browser, { width: 360, height: 740 });
  await phone.context().addCookies(await page.context().cookies());
  await phone.goto(server.base + '#/thread/' + await currentThread(page));
  await appReady(phone);
  await phone.waitForSelector('.msg.assistant');
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll');
  const box = await phone.locator('#composer').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 360, 'the composer fits');
  const fs16 = await phone.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.md')).fontSize));
  assert.ok(fs16 >= 14, 'text stays readable');
  await phone.screenshot({ path: artifact('phone-360.png') });
  await phone.click('#menu');
  await phone.waitForSelector('#sidebar .thread-link', { state: 'visible' });
  await phone.waitForTimeout(300);
  await phone.screenshot({ path: artifact('phone-360-drawer.png') });
  await phone.close();
});

test('keyboard: Tab reaches the controls with a visible focus ring; controls are labelled', async () => {
  await page.click('#new-chat');
  await page.waitForSelector('.welcome');
  const ring = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    ring.push(await page.evaluate(() => {
      const a = document.activeElement;
      const cs = getComputedStyle(a);
      return { label: a.getAttribute('aria-label') || a.textContent.trim() || a.id, outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0 };
    }));
  }
  assert.ok(ring.every((r) => r.label), 'every focused control has a name: ' + JSON.stringify(ring));
  assert.ok(ring.filter((r) => r.outline).length >= ring.length - 1, 'focus is visible: ' + JSON.stringify(ring));
  const unlabelled = await page.$$eval('button, input, textarea, a[href]', (els) => els
    .filter((e) => e.offsetParent !== null)
    .filter((e) => !(e.getAttribute('aria-label') || e.textContent.trim() || (e.labels && e.labels.length) || e.getAttribute('title')))
    .map((e) => e.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabelled, []);
  assert.equal(await page.getAttribute('#log', 'role'), 'log');
  assert.equal(await page.getAttribute('#log', 'aria-live'), 'polite');
});

test('logout ends the session and leads to the login page', async () => {
  await page.click('#logout');
  await page.waitForSelector('#login-form');
  const r = await page.evaluate(async () => (await fetch('api/me')).status);
  assert.equal(r, 401);
  assert.deepEqual(page.errors, []);
});

function luminance(rgb) {
  const [r, g, b] = rgb.match(/\d+(\.\d+)?/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}
