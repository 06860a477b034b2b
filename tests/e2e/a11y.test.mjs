// Accessibility: axe-core finds no serious or critical violation on the login
// page, the empty chat, an answer with code, a table, LaTeX and sources, an
// edited question, and the dialogs, in light and dark (from the system and
// from the toggle); the thread list is one Tab stop with arrow keys; the focus
// comes back after a rename and after feedback; on a phone the ↓ button never
// covers the message box.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, login, appReady, ask, answered, script, axeViolations, openSession, closeSession } from './helpers.mjs';

let server, browser, page;

const RICH = {
  tokens: ['Code:\n\n```js\nconst total = items.reduce((a, b) => a + b, 0); // sum\nconsole.log("total", total);\n```\n\n',
    '| Item | Amount |\n|:--|--:|\n| Rent | 1,200 |\n\n', 'Inline $a^2 + b^2 = c^2$ and\n\n$$\\sum_{i=1}^n i = \\frac{n(n+1)}{2}$$\n'],
  json_preamble: { sources: [{ title: 'Handbook', file: 'handbook.pdf', page: 2, score: 0.8, url: 'https://example.com/h' }] },
};

before(async () => {
  ({ server, browser, page } = await openSession({
    login: false, extra: ['--extra-location', 'RagChatStarter "Summarize my documents"',
      '--extra-location', 'RagChatReadme "Ask about **leases**."'],
  }));
});
after(() => closeSession({ server, browser }));

async function check(p, what) {
  const v = await axeViolations(p);
  assert.deepEqual(v, [], `${what}: no serious or critical violation`);
}

test('axe: the login page, light and dark', async () => {
  for (const scheme of ['light', 'dark']) {
    const p = await newPage(browser, { colorScheme: scheme });
    await p.goto(server.base);
    await p.waitForSelector('#login-form');
    await check(p, 'login ' + scheme);
    await p.fill('#username', 'alice');
    await p.fill('#password', 'wrong');
    await Promise.all([p.waitForNavigation(), p.click('#login-submit')]);
    await p.waitForSelector('#login-error:not([hidden])');
    await check(p, 'login error ' + scheme);
    await p.close();
  }
  await login(page, server);
});

/* Every state of the chat, in the three ways a theme is chosen. */
async function themes(fn) {
  for (const [scheme, toggle] of [['light', null], ['dark', null], ['light', 'dark']]) {
    const p = await newPage(browser, { colorScheme: scheme });
    await p.context().addCookies(await page.context().cookies());
    await p.goto(server.base + (fn.hash ? fn.hash() : ''));
    await appReady(p);
    if (toggle) await p.click('#theme');
    await fn(p, `${scheme}${toggle ? ' toggled to ' + toggle : ''}`);
    await p.close();
  }
}

test('axe: the empty chat with its readme and starters', async () => {
  await themes(async (p, label) => {
    await p.waitForSelector('.starters');
    await check(p, 'empty chat ' + label);
  });
});

test('axe: an answer with code, a table, LaTeX and its sources; versions; an edited question; menus', async () => {
  await script(server, RICH, { tokens: ['A second version.'] });
  await ask(page, 'Everything at once');
  await answered(page);
  await page.click('.msg.assistant.latest [data-act=regenerate]');
  await page.waitForFunction(() => document.querySelector('.msg.assistant.latest:not(.live) .ver-count'));
  await page.click('.msg.assistant.latest [aria-label="Previous version"]');
  await page.waitForFunction(() => document.querySelector('.msg.assistant.latest .ver-count')?.textContent.trim() === '1 / 2');
  const hash = await page.evaluate(() => location.hash);
  const fn = async (p, label) => {
    await p.waitForSelector('.msg.assistant .hljs-keyword');
    await p.waitForSelector('.msg.assistant .katex');
    await p.click('.msg.assistant .sources summary');
    await check(p, 'answer ' + label);
    await p.click('.msg.user [data-act=edit]');
    await p.waitForSelector('.edit-form textarea');
    await p.click('.msg.assistant.latest [data-act=more]');
    await p.waitForSelector('.msg.assistant.latest .menu:not([hidden])');
    await check(p, 'edit form and answer menu ' + label);
    await p.keyboard.press('Escape');
    await p.click('#thread-menu-btn');
    await check(p, 'thread menu ' + label);
  };
  fn.hash = () => hash;
  await themes(fn);
});

test('axe: the delete dialog, the search results, the phone drawer', async () => {
  await themes(async (p, label) => {
    await p.fill('#search', 'Rent');   // a word of the answer: a name matching best shows no snippet
    await p.waitForSelector('.thread-snippet mark');
    await check(p, 'search results ' + label);
    await p.fill('#search', '');
    await p.waitForFunction(() => !document.querySelector('.thread-snippet'));
    await p.hover('.thread >> nth=0');
    await p.click('.thread >> nth=0 >> [data-act=delete]');
    await p.waitForSelector('#confirm[open]');
    await check(p, 'delete dialog ' + label);
    await p.keyboard.press('Escape');
  });
  const phone = await newPage(browser, { width: 360, height: 740, colorScheme: 'dark' });
  await phone.context().addCookies(await page.context().cookies());
  await phone.goto(server.base);
  await appReady(phone);
  await phone.click('#menu');
  await phone.waitForSelector('#sidebar .thread-link', { state: 'visible' });
  await phone.waitForTimeout(300);
  await check(phone, 'phone drawer dark');
  await phone.close();
});

test('the thread list is one Tab stop; arrows move, Home and End jump', async () => {
  for (let i = 0; i < 3; i++) {
    await script(server, { tokens: ['ok'] });
    await page.click('#new-chat');
    await ask(page, 'Thread for keys ' + i);
    await answered(page);
  }
  await page.focus('#search');
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement.closest('.thread')?.dataset.id);
  assert.ok(first, 'Tab from the search lands in the list');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-current')), 'page', 'on the current chat');
  const tabbable = await page.$$eval('#thread-groups a, #thread-groups button', (x) => x.filter((e) => e.tabIndex >= 0).length);
  assert.equal(tabbable, 3, 'only the current chat and its two buttons are in the Tab order');
  const names = await page.$$eval('.thread-link .thread-name', (n) => n.map((x) => x.textContent));
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), names[1]);
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), names.at(-1));
  await page.keyboard.press('Home');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), names[0]);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => document.querySelector('#thread-title').textContent === n, names[1]);
  // Tab leaves the list after the chat's own buttons
  await page.focus('.thread.active .thread-link');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => !!document.activeElement.closest('#thread-groups')), false);
});

test('the focus comes back after a rename and after feedback', async () => {
  const id = await page.$eval('.thread.active', (li) => li.dataset.id);
  await page.click('.thread.active [data-act=rename]');
  await page.fill('.thread.active input.thread-rename', 'Renamed by keyboard');
  await page.press('.thread.active input.thread-rename', 'Enter');
  await page.waitForFunction(() => document.activeElement.classList.contains('thread-link'));
  assert.equal(await page.evaluate(() => document.activeElement.closest('.thread').dataset.id), id);
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Renamed by keyboard');
  // from the conversation's menu: back to the menu button
  await page.click('#thread-menu-btn');
  await page.click('#thread-rename');
  await page.fill('.titles input.thread-rename', 'Renamed from the menu');
  await page.press('.titles input.thread-rename', 'Enter');
  await page.waitForFunction(() => document.activeElement.id === 'thread-menu-btn');
  // feedback: the comment box closes back onto its thumb
  await page.click('.msg.assistant.latest [data-act=up]');
  await page.waitForSelector('.feedback-form input');
  assert.equal(await page.evaluate(() => document.activeElement.matches('.feedback-form input')), true);
  await page.fill('.feedback-form input', 'fine');
  await page.press('.feedback-form input', 'Enter');
  await page.waitForFunction(() => !document.querySelector('.feedback-form') && document.activeElement.dataset.act === 'up');
  await page.click('.msg.assistant.latest [data-act=down]');
  await page.waitForSelector('.feedback-form input');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.activeElement.dataset.act === 'down');
});

test('on a phone the ↓ button never covers the message box', async () => {
  const phone = await newPage(browser, { width: 360, height: 640 });
  await phone.context().addCookies(await page.context().cookies());
  await script(server, { tokens: [Array.from({ length: 80 }, (_, i) => `Line ${i}.`).join('\n\n')] });
  await phone.goto(server.base);
  await appReady(phone);
  await phone.fill('#composer-input', 'Long answer please');
  await phone.press('#composer-input', 'Enter');
  await answered(phone);
  // a tall message box: five lines typed
  await phone.fill('#composer-input', 'one\ntwo\nthree\nfour\nfive');
  await phone.evaluate(() => { const l = document.querySelector('#log'); l.scrollTop = 0; l.dispatchEvent(new Event('scroll')); });
  await phone.waitForSelector('#to-bottom', { state: 'visible' });
  const b = await phone.locator('#to-bottom').boundingBox();
  const c = await phone.locator('#composer').boundingBox();
  assert.ok(b.y + b.height <= c.y, `the button (${b.y}+${b.height}) stays above the message box (${c.y})`);
  await check(phone, 'phone with the ↓ button');
  await phone.close();
});
