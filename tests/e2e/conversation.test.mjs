// Regenerate, edit and resend, versions (‹ 1/2 ›), what the backend receives for
// each, exports and feedback on versions, Escape, and the streaming display.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appReady, ask, answered, currentThread, script, api, backendMessages, openSession, closeSession } from './helpers.mjs';

let server, browser, page;

before(async () => {
  ({ server, browser, page } = await openSession());
});
after(() => closeSession({ server, browser }));

const last = async () => (await backendMessages(server)).at(-1);
const texts = (sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent.trim()));

test('regenerate: the question again with the history before it; versions kept and switchable', async () => {
  await script(server, { tokens: ['First answer.'] }, { tokens: ['Second answer.'] });
  await ask(page, 'Question one');
  const a1 = await answered(page);
  await ask(page, 'Question two');
  const a2 = await answered(page);
  // only the latest answer offers it
  assert.equal(await page.isVisible(`.msg[data-step="${a1}"] [data-act=regenerate]`), false);
  assert.equal(await page.isVisible(`.msg[data-step="${a2}"] [data-act=regenerate]`), true);

  await script(server, { tokens: ['Second ', 'answer, ', 'again.'], delay: 0.1 });
  await page.click(`.msg[data-step="${a2}"] [data-act=regenerate]`);
  const a2b = await answered(page);
  assert.notEqual(a2b, a2);
  assert.deepEqual(await last(), [['user', 'Question one'], ['assistant', 'First answer.'], ['user', 'Question two']],
    'the backend got the history before the answer, never the answer replaced');
  assert.equal((await page.textContent('.msg.assistant.latest .md')).trim(), 'Second answer, again.');
  assert.equal((await page.textContent('.msg.assistant.latest .ver-count')).trim(), '2 / 2');
  assert.deepEqual(await texts('.msg.user .bubble'), ['Question one', 'Question two'], 'no question was added');

  // ‹: the first version, whole; the focus stays on the switcher
  await page.click('.msg.assistant.latest [aria-label="Previous version"]');
  await page.waitForFunction(() => document.querySelector('.msg.assistant.latest .ver-count')?.textContent.trim() === '1 / 2');
  assert.equal((await page.textContent('.msg.assistant.latest .md')).trim(), 'Second answer.');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Next version');
  // the version shown survives a reload, and the next message continues from it
  await page.reload();
  await appReady(page);
  await page.waitForSelector('.msg.assistant.latest .ver-count');
  assert.equal((await page.textContent('.msg.assistant.latest .md')).trim(), 'Second answer.');
  await script(server, { tokens: ['Third answer.'] });
  await ask(page, 'Question three');
  await answered(page);
  assert.deepEqual(await last(), [['user', 'Question one'], ['assistant', 'First answer.'], ['user', 'Question two'],
    ['assistant', 'Second answer.'], ['user', 'Question three']]);

  // the thread's export follows the branch shown
  const tid = await currentThread(page);
  const md = (await api(page, 'GET', `api/threads/${tid}/export.md`)).text;
  assert.match(md, /Second answer\./);
  assert.doesNotMatch(md, /again/);
  await page.click(`.msg[data-step="${a2}"] [aria-label="Next version"]`);
  await page.waitForFunction((id) => !!document.querySelector(`.msg[data-step="${id}"]`), a2b);
  assert.deepEqual(await texts('.msg.user .bubble'), ['Question one', 'Question two'], 'the other branch has no third question');
  const md2 = (await api(page, 'GET', `api/threads/${tid}/export.md`)).text;
  assert.match(md2, /Second answer, again\./);
  assert.doesNotMatch(md2, /Question three/);
});

test('feedback and export work on every version', async () => {
  const m = '.msg.assistant.latest';
  const id = await page.getAttribute(m, 'data-step');
  await page.click(`${m} [data-act=up]`);
  await page.waitForSelector(`${m} [data-act=up][aria-pressed=true]`);
  await page.keyboard.press('Escape');
  await page.click(`${m} [aria-label="Previous version"]`);
  await page.waitForFunction((x) => document.querySelector('.msg.assistant.latest')?.dataset.step !== x, id);
  await page.click(`${m} [data-act=down]`);
  await page.waitForSelector(`${m} [data-act=down][aria-pressed=true]`);
  const other = await page.getAttribute(m, 'data-step');
  const t = await api(page, 'GET', 'api/threads/' + await currentThread(page));
  assert.equal(t.json.steps.at(-1).id, other);
  assert.equal(t.json.steps.at(-1).feedback.value, 0);
  const r = await api(page, 'GET', `api/steps/${id}/export.md`);
  assert.equal(r.status, 200);
  assert.match(r.text, /Second answer, again\./);
});

test('edit and resend: opens in place, focused; Escape cancels; Enter sends the new version', async () => {
  await page.click('#new-chat');
  await script(server, { tokens: ['Answer A.'] }, { tokens: ['Answer B.'] });
  await ask(page, 'Ask A');
  await answered(page);
  await ask(page, 'Ask B');
  await answered(page);
  const q = '.msg.user >> nth=-1';
  await page.click(`${q} >> [data-act=edit]`);
  await page.waitForSelector('.edit-form textarea');
  assert.equal(await page.evaluate(() => document.activeElement.matches('.edit-form textarea')), true, 'the editor has the focus');
  assert.equal(await page.inputValue('.edit-form textarea'), 'Ask B');
  await page.keyboard.press('Escape');
  assert.equal(await page.$('.edit-form'), null);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.act), 'edit', 'the focus is back on Edit');
  assert.deepEqual(await texts('.msg.user .bubble'), ['Ask A', 'Ask B']);

  await page.click(`${q} >> [data-act=edit]`);
  await page.fill('.edit-form textarea', 'Ask B, better');
  await script(server, { tokens: ['Answer ', 'B2.'] });
  await page.press('.edit-form textarea', 'Enter');
  await answered(page);
  assert.deepEqual(await last(), [['user', 'Ask A'], ['assistant', 'Answer A.'], ['user', 'Ask B, better']],
    'the backend got the history before the question and the edited text, not the old question');
  assert.deepEqual(await texts('.msg.user .bubble'), ['Ask A', 'Ask B, better']);
  assert.equal((await page.textContent('.msg.user >> nth=-1 >> .ver-count')).trim(), '2 / 2');
  assert.equal((await page.textContent('.msg.assistant.latest .md')).trim(), 'Answer B2.');
  // the old question and its answer are reachable
  await page.click('.msg.user >> nth=-1 >> [aria-label="Previous version"]');
  await page.waitForFunction(() => document.querySelector('.msg.assistant.latest .md')?.textContent.trim() === 'Answer B.');
  assert.deepEqual(await texts('.msg.user .bubble'), ['Ask A', 'Ask B']);
  assert.deepEqual(page.errors, []);
});

test('Escape stops a streaming answer; the message box keeps the focus meanwhile', async () => {
  await script(server, { tokens: Array.from({ length: 40 }, (_, i) => `t${i} `), delay: 0.15 });
  await ask(page, 'A long one');
  await page.waitForFunction(() => /t3/.test(document.querySelector('.msg.live .md')?.textContent || ''), null, { timeout: 15000 });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'composer-input');
  assert.equal(await page.evaluate(() => document.querySelector('#composer-input').readOnly), true);
  await page.keyboard.press('Escape');
  await answered(page, 10000);
  assert.match(await page.textContent('.msg.assistant.latest .who'), /Stopped/);
  assert.ok(!(await page.textContent('.msg.assistant.latest .md')).includes('t39'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'composer-input');
  assert.equal(await page.isEditable('#composer-input'), true);
  // a stopped answer can be regenerated too
  await script(server, { tokens: ['Complete now.'] });
  await page.click('.msg.assistant.latest [data-act=regenerate]');
  await page.waitForFunction(() => document.querySelector('.msg.assistant.latest:not(.live) .md')?.textContent.trim() === 'Complete now.');
});

test('streaming display: never glued, never shorter, no JSON preamble, a selection stays', async () => {
  const words = Array.from({ length: 24 }, (_, i) => `word${i} `);
  const tokens = ['```json\n', '{"sources": ["x.pdf"]}', '\n```\n', 'First paragraph stays here.\n\n', ...words];
  await script(server, { tokens, delay: 0.12 });
  await ask(page, 'Stream it');
  const full = ('First paragraph stays here. ' + words.join('')).replace(/\s+/g, ' ').trim();
  let prev = 0, selected = false;
  const seen = [];
  for (let i = 0; i < 300; i++) {
    const s = await page.evaluate(() => {
      const live = document.querySelector('.msg.assistant.live .md');
      return live ? live.innerText : null;
    });
    if (s === null) break;
    const t = s.replace(/\s+/g, ' ').trim();
    seen.push(t);
    assert.ok(!/json|sources/.test(t), 'the preamble is never shown: ' + t);
    assert.ok(full.startsWith(t), 'what shows is a prefix of the answer (no glued words): ' + JSON.stringify(t));
    assert.ok(t.length >= prev, `never shorter: ${prev} then ${t.length}`);
    prev = t.length;
    if (!selected && /word6/.test(t)) {
      selected = await page.evaluate(() => {
        const p = document.querySelector('.msg.assistant.live .md p');
        const r = document.createRange();
        r.setStart(p.firstChild, 0);
        r.setEnd(p.firstChild, 15);
        const sel = getSelection();
        sel.removeAllRanges();
        sel.addRange(r);
        return true;
      });
    }
    await page.waitForTimeout(40);
  }
  assert.ok(selected, 'a selection was made while streaming');
  assert.ok(new Set(seen).size > 5, 'several partial states were seen');
  assert.equal(await page.evaluate(() => getSelection().toString()), 'First paragraph', 'the selection survived the updates');
  await answered(page);
  assert.match(await page.textContent('.msg.assistant.latest .sources summary'), /Sources \(1\)/);
  assert.deepEqual(page.errors, []);
});
