// A long thread opens at its end; earlier messages load as the user scrolls up,
// the message in view staying where it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { appReady, sql, stamp, openSession, closeSession, axeViolations } from './helpers.mjs';

let server, browser, page;

before(async () => {
  ({ server, browser, page } = await openSession());
});
after(() => closeSession({ server, browser }));

const N = 1000;

function seedThread(name, alt = false) {
  const tid = crypto.randomUUID();
  const ids = Array.from({ length: N }, () => crypto.randomUUID());
  const t0 = Date.now() - 7 * 864e5;
  const ts = (i) => new Date(t0 + i * 1000).toISOString().replace('Z', '000Z');
  const q = (s) => "'" + s.replace(/'/g, "''") + "'";
  const rows = [];
  for (let i = 0; i < N; i++) {
    const user = i % 2 === 0;
    // answers of different heights, so that pages differ in size
    const out = user ? `Question ${i}?` : `Answer ${i}.` + '\n\n- a point'.repeat(i % 5);
    const meta = JSON.stringify({ after: i ? ids[i - 1] : null });
    rows.push(`(${q(ids[i])},${q(user ? 'alice' : 'Assistant')},${q(user ? 'user_message' : 'assistant_message')},${q(tid)},0,0,0,${q(meta)},${q(out)},${q(ts(i))},${q(ts(i))},${q(ts(i))})`);
  }
  if (alt) {
    // a second version of answer 101, picked last: the branch shown ends with it
    const meta = JSON.stringify({ after: ids[100], shown: stamp() });
    const t = new Date(t0 + 101 * 1000 + 500).toISOString().replace('Z', '000Z');
    rows.push(`('alt-${tid}','Assistant','assistant_message',${q(tid)},0,0,0,${q(meta)},'Answer 101 (second version).',${q(t)},${q(t)},${q(t)})`);
  }
  sql(server, `INSERT INTO threads (id,"createdAt",name,"userId","userIdentifier",tags,metadata) VALUES (${q(tid)},${q(stamp())},${q(name)},(SELECT id FROM users WHERE identifier='alice'),'alice',NULL,'{}');` +
    'INSERT INTO steps (id,name,type,"threadId","disableFeedback",streaming,"isError",metadata,output,"createdAt",start,"end") VALUES ' + rows.join(',') + ';');
  return { tid, ids };
}

/* The number in each message's text, top to bottom. */
const numbers = () => page.$$eval('#log > .msg', (ms) => ms.map((m) => Number((m.textContent.match(/(?:Question|Answer) (\d+)/) || [])[1])));

/* The top of a message relative to the log's box. */
const topOf = (sel) => page.$eval(sel, (m) => m.getBoundingClientRect().top - document.querySelector('#log').getBoundingClientRect().top);

test('a long thread opens at its end and loads earlier messages on scrolling up, in place', async () => {
  const { tid } = seedThread('A thousand messages');
  await page.reload();
  await appReady(page);
  await page.click(`.thread[data-id="${tid}"] .thread-link`);
  await page.waitForFunction(() => document.querySelectorAll('#log > .msg').length >= 100);
  let seen = await numbers();
  assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => N - 100 + i), 'the newest 100, in order');
  // at the bottom, the newest answer in view
  assert.ok(await page.$eval('#log', (l) => l.scrollHeight - l.scrollTop - l.clientHeight < 80));
  assert.ok(await page.$('#log > .older button'), 'a button to load earlier messages');

  for (let round = 0; round < 20 && seen.length < N; round++) {
    // the first message, then scroll up to the bar: earlier messages come in above it
    const sel = `#log > .msg[data-step]`;
    const firstId = await page.$eval(sel, (m) => m.dataset.step);
    const firstSel = `#log > .msg[data-step="${firstId}"]`;
    // scrolled and measured in one task: nothing can load in between
    const before = await page.$eval(firstSel, (m) => {
      const l = document.querySelector('#log');
      l.scrollTop = 0;
      return m.getBoundingClientRect().top - l.getBoundingClientRect().top;
    });
    const count = seen.length;
    await page.waitForFunction((n) => document.querySelectorAll('#log > .msg').length > n && !document.querySelector('#log').hasAttribute('aria-busy'), count);
    await page.waitForTimeout(50);
    const after = await topOf(firstSel);
    assert.ok(Math.abs(after - before) <= 2, `the message in view stays in place (${before} -> ${after})`);
    seen = await numbers();
  }
  assert.deepEqual(seen, Array.from({ length: N }, (_, i) => i), 'every message once, in order');
  assert.equal(await page.$('#log > .older'), null, 'no bar at the start of the thread');
  assert.match(await page.$eval('#log', (l) => l.getAttribute('aria-busy') || ''), /^$/);
});

test('the button loads earlier messages from the keyboard and says so', async () => {
  const { tid } = seedThread('Keyboard thread');
  await page.reload();
  await appReady(page);
  await page.click(`.thread[data-id="${tid}"] .thread-link`);
  await page.waitForFunction(() => document.querySelectorAll('#log > .msg').length >= 100);
  const n0 = (await numbers()).length;
  await page.focus('#log > .older button');
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => document.querySelectorAll('#log > .msg').length > n, n0);
  assert.match(await page.$eval('#log > .older .older-status', (s) => s.textContent), /earlier messages loaded/);
  // focus moved to the first message loaded, not lost
  assert.equal(await page.evaluate(() => document.activeElement.classList.contains('msg')), true);
  assert.deepEqual(await axeViolations(page), []);
});

test('switching to a version far back in a long branch loads the pages before it and shows it', async () => {
  const { tid, ids } = seedThread('Versions far back', true);
  await page.reload();
  await appReady(page);
  await page.click(`.thread[data-id="${tid}"] .thread-link`);
  const alt = `#log > .msg[data-step="alt-${tid}"]`;
  await page.waitForSelector(alt);
  // the branch shown ends with the second version: 100 + 2 steps
  assert.deepEqual((await numbers()).slice(-2), [100, 101]);
  assert.equal(await page.$eval(alt + ' .ver-count', (e) => e.textContent), '2 / 2');
  await page.click(alt + ' [aria-label="Previous version"]');
  const first = `#log > .msg[data-step="${ids[101]}"]`;
  await page.waitForSelector(first, { timeout: 20000 });
  await page.waitForFunction((sel) => {
    const m = document.querySelector(sel), l = document.querySelector('#log').getBoundingClientRect();
    const r = m.getBoundingClientRect();
    return r.bottom > l.top && r.top < l.bottom && m.contains(document.activeElement);
  }, first);
  assert.equal(await page.$eval(first + ' .ver-count', (e) => e.textContent), '1 / 2');
  const seen = await numbers();
  assert.deepEqual(seen.slice(-3), [N - 3, N - 2, N - 1], 'the long branch, to its end');
  assert.equal(await page.$(alt), null);
});
