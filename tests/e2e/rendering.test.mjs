// How answers look: highlighted code with its language (Debian's highlight.js),
// LaTeX (Debian's KaTeX), both loaded only when needed; aligned tables that
// scroll on a phone; other sites' images as links; sources; search snippets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, appReady, ask, answered, currentThread, script, artifact, openSession, closeSession } from './helpers.mjs';

let server, browser, page, tid;

const ANSWER = [
  'Here is **code**:\n\n',
  '```python\ndef area(r):\n    # the area of a circle\n    return 3.14159 * r ** 2, "pi r squared"\n```\n\n',
  '| Item | Amount | Flag |\n|:--|--:|:-:|\n| Rent | 1,200.00 | yes |\n| Deposit | 50 | no |\n\n',
  'Euler: $e^{i\\pi} + 1 = 0$, and\n\n$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$\n\n',
  'A chart: ![quarterly chart](https://example.com/chart.png)\n',
];

before(async () => {
  ({ server, browser, page } = await openSession());
});
after(() => closeSession({ server, browser }));

test('the first load fetches neither highlight.js nor KaTeX', async () => {
  const fresh = await newPage(browser);
  await fresh.context().addCookies(await page.context().cookies());
  const urls = [];
  fresh.on('request', (r) => urls.push(r.url()));
  await fresh.goto(server.base);
  await appReady(fresh);
  await fresh.waitForTimeout(300);
  assert.ok(!urls.some((u) => /vendor/.test(u)), urls.join('\n'));
  await fresh.close();
});

test('code, LaTeX, tables, images and sources of one answer', async () => {
  const vendor = [];
  page.on('request', (r) => { if (/\/static\/vendor\//.test(r.url())) vendor.push(r.url()); });
  await script(server, {
    tokens: ANSWER,
    json_preamble: { sources: [{ title: 'Lease handbook', file: 'lease.pdf', page: 3, score: 0.91, url: 'https://example.com/lease' },
      { source: 'docs/notes.md', text: 'The deposit is refunded within 30 days.' }] },
  });
  await ask(page, 'Show everything');
  const id = await answered(page);
  tid = await currentThread(page);
  const m = `.msg[data-step="${id}"]`;
  // code: the language label, a Copy button, keywords, strings and comments in colour
  await page.waitForSelector(`${m} .hljs-keyword`);
  assert.equal((await page.textContent(`${m} .code-lang`)).trim(), 'python');
  assert.equal(await page.getAttribute(`${m} .code-copy`, 'aria-label'), 'Copy the code (python)');
  const colour = (sel) => page.$eval(`${m} ${sel}`, (e) => getComputedStyle(e).color);
  const base = await page.$eval(`${m} pre code`, (e) => getComputedStyle(e).color);
  for (const sel of ['.hljs-keyword', '.hljs-string', '.hljs-comment']) {
    assert.notEqual(await colour(sel), base, sel + ' has its own colour');
  }
  assert.equal(await page.$eval(`${m} pre`, (e) => e.textContent.includes('return 3.14159 * r ** 2, "pi r squared"')), true);
  // LaTeX typeset by KaTeX, inline and display
  await page.waitForSelector(`${m} .math-display.typeset .katex-display`);
  assert.equal(await page.$$eval(`${m} .katex`, (k) => k.length), 2);
  assert.ok(await page.$(`${m} .katex math`), 'MathML for screen readers');
  assert.ok(vendor.some((u) => /highlight\.min\.js$/.test(u)) && vendor.some((u) => /katex\.min\.js$/.test(u)), vendor.join(' '));
  // tables: the columns align as written
  const align = await page.$$eval(`${m} tbody tr:first-child td`, (tds) => tds.map((t) => getComputedStyle(t).textAlign));
  assert.deepEqual(align, ['left', 'right', 'center']);
  // an image of another site is a link with its alt text
  assert.equal(await page.$(`${m} .md img`), null);
  assert.equal(await page.getAttribute(`${m} a:has-text("quarterly chart")`, 'href'), 'https://example.com/chart.png');
  // sources: collapsed, then listed
  assert.equal((await page.textContent(`${m} .sources summary`)).trim(), 'Sources (2)');
  assert.equal(await page.isVisible(`${m} .sources ol`), false);
  await page.click(`${m} .sources summary`);
  const items = await page.$$eval(`${m} .sources li`, (li) => li.map((x) => x.textContent.replace(/\s+/g, ' ').trim()));
  assert.equal(items[0], 'Lease handbook lease.pdf, page 3 score 0.91');
  assert.match(items[1], /^notes\.md docs\/notes\.md.*refunded within 30 days/);
  assert.equal(await page.getAttribute(`${m} .sources a`, 'href'), 'https://example.com/lease');
  await page.screenshot({ path: artifact('answer-rich-light.png') });
  assert.deepEqual(page.errors, [], 'no error, no CSP violation');
});

test('after a reload: the same rendering, the sources kept; dark theme colours', async () => {
  const dark = await newPage(browser, { colorScheme: 'dark' });
  await dark.context().addCookies(await page.context().cookies());
  await dark.goto(server.base + '#/thread/' + tid);
  await appReady(dark);
  await dark.waitForSelector('.msg.assistant .hljs-keyword');
  await dark.waitForSelector('.msg.assistant .katex');
  assert.equal((await dark.textContent('.msg.assistant .sources summary')).trim(), 'Sources (2)');
  const kw = await dark.$eval('.msg.assistant .hljs-keyword', (e) => getComputedStyle(e).color);
  const kwLight = await page.$eval('.msg.assistant .hljs-keyword', (e) => getComputedStyle(e).color);
  assert.notEqual(kw, kwLight, 'keywords have a colour of the dark theme');
  await dark.screenshot({ path: artifact('answer-rich-dark.png') });
  assert.deepEqual(dark.errors, []);
  await dark.close();
});

test('on a phone a wide table scrolls sideways; its words are not broken', async () => {
  await script(server, { tokens: ['| Name | Description | Consideration | Jurisdiction |\n|---|---|---|---|\n',
    '| Indemnification | Responsibilities notwithstanding | Extraordinarily | Internationally |\n'] });
  await ask(page, 'A wide table');
  const id = await answered(page);
  const phone = await newPage(browser, { width: 360, height: 740 });
  await phone.context().addCookies(await page.context().cookies());
  await phone.goto(server.base + '#/thread/' + tid);
  await appReady(phone);
  const m = `.msg[data-step="${id}"]`;
  await phone.waitForSelector(`${m} .table-wrap`);
  const r = await phone.$eval(`${m} .table-wrap`, (w) => ({ scroll: w.scrollWidth, client: w.clientWidth, tab: w.tabIndex }));
  assert.ok(r.scroll > r.client, `the table is wider than the screen and scrolls: ${JSON.stringify(r)}`);
  assert.equal(r.tab, 0, 'the scrolling table is reachable by keyboard');
  // each word on one line (lines break between words only)
  const cut = await phone.$$eval(`${m} td, ${m} th`, (cells) => cells.flatMap((td) => {
    const text = td.firstChild, out = [];
    for (const w of text.data.matchAll(/\S+/g)) {
      const range = document.createRange();
      range.setStart(text, w.index);
      range.setEnd(text, w.index + w[0].length);
      if (range.getClientRects().length > 1) out.push(w[0]);
    }
    return out;
  }));
  assert.deepEqual(cut, [], 'no word is broken across lines');
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the page itself does not scroll sideways');
  await phone.close();
});

test('search results show the matching text, highlighted', async () => {
  await page.fill('#search', 'EULER');
  await page.waitForSelector('.thread-snippet mark');
  assert.equal(await page.textContent('.thread-snippet mark'), 'Euler', 'the text as written, found in any case');
  await page.fill('#search', 'circle');
  await page.waitForFunction(() => /the area of a circle/.test(document.querySelector('.thread-snippet')?.textContent || ''));
  assert.equal(await page.textContent('.thread-snippet mark'), 'circle');
  await page.screenshot({ path: artifact('search-snippet.png') });
  await page.fill('#search', '');
  await page.waitForFunction(() => !document.querySelector('.thread-snippet'));
});
