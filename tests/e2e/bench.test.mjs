// Benchmark, run by `make bench` (not by `make test`): a thread of 10,000 messages opens at its
// end (the newest 100) in < 300 ms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { appReady, sql, stamp, openSession, closeSession } from './helpers.mjs';

let server, browser, page;
const opts = {};

before(async () => {
  ({ server, browser, page } = await openSession());
});
after(() => closeSession({ server, browser }));

const ANSWERS = [
  'A short answer with **bold**, `code` and a [link](https://example.org).',
  '## Findings\n\n- first point\n- second point with *emphasis*\n- third point\n\n1. one\n2. two',
  '| Quarter | Revenue | Growth |\n|---|---:|---:|\n| Q1 | 1.2 M | 4 % |\n| Q2 | 1.4 M | 16 % |\n| Q3 | 1.5 M | 7 % |',
  'Here is the code:\n\n```python\ndef answer(x):\n    return 42 * x\n```\n\nAnd a closing paragraph that is a little longer so that the text wraps on narrow screens.',
];

test('a thread of 10,000 messages opens at its end in < 300 ms', opts, async () => {
  const tid = crypto.randomUUID();
  const t0 = Date.now() - 4 * 3600e3;
  const ts = (i) => new Date(t0 + i * 1000).toISOString().replace('Z', '000Z');
  const q = (s) => "'" + s.replace(/'/g, "''") + "'";
  const rows = [];
  for (let i = 0; i < 10000; i++) {
    const user = i % 2 === 0;
    const out = user ? `Question number ${i / 2}: what does the document say about topic ${i}?` : ANSWERS[(i >> 1) % ANSWERS.length];
    rows.push(`(${q(crypto.randomUUID())},${q(user ? 'alice' : 'Assistant')},${q(user ? 'user_message' : 'assistant_message')},${q(tid)},0,0,0,'{}',${q(out)},${q(ts(i))},${q(ts(i))},${q(ts(i))})`);
  }
  sql(server, `INSERT INTO threads (id,"createdAt",name,"userId","userIdentifier",tags,metadata) VALUES (${q(tid)},${q(stamp())},'Ten thousand messages',(SELECT id FROM users WHERE identifier='alice'),'alice',NULL,'{}');` +
    'INSERT INTO steps (id,name,type,"threadId","disableFeedback",streaming,"isError",metadata,output,"createdAt",start,"end") VALUES ' + rows.join(',') + ';');
  await page.reload();
  await appReady(page);
  const link = `.thread[data-id="${tid}"] .thread-link`;
  await page.waitForSelector(link);
  const runs = [];
  for (let run = 0; run < 5; run++) {
    await page.click('#new-chat');
    await page.waitForSelector('.welcome');
    const r = await page.evaluate(async (sel) => {
      const start = performance.now();
      let apiMs = 0;
      const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) if (/api\/threads\/[^?]+$/.test(e.name)) apiMs = e.duration; });
      obs.observe({ type: 'resource', buffered: false });
      document.querySelector(sel).click();
      await new Promise((resolve) => {
        (function poll() {
          if (document.querySelectorAll('#log > .msg').length >= 100) resolve(); else setTimeout(poll, 2);
        })();
      });
      await new Promise((r2) => requestAnimationFrame(() => setTimeout(r2, 0)));   // the frame is painted
      const total = performance.now() - start;
      obs.disconnect();
      return { total, apiMs, render: Number(document.querySelector('#app').dataset.openMs) };
    }, link);
    runs.push(r);
  }
  const totals = runs.map((r) => r.total).sort((a, b) => a - b);
  const median = totals[2];
  console.log('# 10,000-message thread (the newest 100 shown): open %s ms (median of 5: %s), API %s ms, fetch+DOM %s ms',
    totals.map((x) => x.toFixed(0)).join('/'), median.toFixed(0),
    runs.map((r) => r.apiMs.toFixed(0)).join('/'), runs.map((r) => r.render).join('/'));
  assert.equal(await page.$$eval('#log > .msg', (m) => m.length), 100);
  assert.match(await page.$$eval('#log > .msg.user', (m) => m[m.length - 1].textContent), /Question number 4999:/);
  assert.ok(median < 300, `median ${median.toFixed(0)} ms`);
});
