// Login, streaming, live markdown, stop, reload/resume, errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { login, appReady, ask, answered, currentThread, script, release, api, artifact, openSession, closeSession, sql } from './helpers.mjs';

let server, browser, page;

before(async () => {
  ({ server, browser, page } = await openSession({ login: false }));
});
after(() => closeSession({ server, browser }));

test('login: a wrong password shows the error and keeps the user name; the right one opens the app', async () => {
  await page.goto(server.base);
  await page.waitForSelector('#login-form');
  assert.equal(await page.isVisible('#login-error'), false, 'no error box before a try');
  await page.fill('#username', 'alice');
  await page.fill('#password', 'not-the-password');
  await Promise.all([page.waitForNavigation(), page.click('#login-submit')]);
  await page.waitForSelector('#login-form');
  assert.equal(await page.isVisible('#login-error'), true, 'the error box shows');
  assert.notEqual((await page.textContent('#login-error')).trim(), '');
  assert.equal(await page.inputValue('#username'), 'alice');
  await login(page, server, 'alice');
  const me = await page.evaluate(async () => (await fetch('api/me')).json());
  assert.equal(await page.textContent('#app-title'), me.title);
  assert.equal(await page.title(), me.title);
  assert.equal((await page.textContent('.welcome p')).trim(), me.welcome);
  assert.equal(await page.textContent('#user-name'), 'alice');
  assert.equal(await page.isVisible('#logout'), true, 'form auth has a logout control');
});

test('an answer grows token by token, then gets its actions', async () => {
  const tokens = ['Alpha ', 'beta ', 'gamma ', 'delta ', 'epsilon ', 'zeta.'];
  await script(server, { tokens, delay: 0.3 });
  await ask(page, 'Stream me six words');
  const seen = new Set();
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    const state = await page.evaluate(() => {
      const live = document.querySelector('.msg.assistant.live');
      return live ? {
        text: live.querySelector('.md').textContent.trim(), cursor: !!live.querySelector('.cursor'), busy: live.getAttribute('aria-busy'),
        disabled: document.querySelector('#composer-input').disabled, stop: !document.querySelector('#stop').hidden,
        readOnly: document.querySelector('#composer-input').readOnly,
        focused: document.activeElement === document.querySelector('#composer-input'),
      } : null;
    });
    if (!state) break;
    if (state.text) {
      assert.equal(state.cursor, true, 'a cursor blinks while streaming');
      assert.equal(state.busy, 'true');
      seen.add(state.text);
    }
    assert.equal(state.disabled, false, 'the message box is not disabled while an answer streams');
    assert.equal(state.readOnly, true, 'it is read-only meanwhile');
    assert.equal(state.focused, true, 'and keeps the focus');
    assert.equal(state.stop, true, 'Stop shows while streaming');
    await page.waitForTimeout(60);
  }
  const partial = [...seen].filter((t) => t !== tokens.join('').trim());
  assert.ok(partial.length >= 2, 'at least two different partial states, saw ' + JSON.stringify([...seen]));
  const id = await answered(page);
  assert.ok(id);
  assert.equal((await page.textContent('.msg.assistant.latest .md')).trim(), tokens.join('').trim());
  assert.equal(await page.isVisible('.msg.assistant.latest .pdf-main'), true, 'Download PDF on the latest answer');
  assert.equal(await page.isVisible('.msg.assistant.latest [data-act=copy]'), true);
  assert.equal(await page.isEditable('#composer-input'), true);
  assert.ok(await currentThread(page), 'the URL names the new thread');
  assert.equal((await page.locator('.msg.user').last().textContent()).trim(), 'Stream me six words');
});

test('a markdown table renders as <table> while the answer still streams', async () => {
  await script(server, { tokens: ['Here:\n\n', '| a | b |\n', '|---|---|\n', '| 1 | 2 |\n', '| 3 | 4 |\n', '\nmore ', 'text ', 'follows ', 'slowly.'], delay: 0.35 });
  await ask(page, 'A table please');
  await page.waitForSelector('.msg.assistant.live .md table', { timeout: 15000 });
  assert.ok(await page.$('.msg.assistant.live'), 'the table appeared before the end');
  await page.screenshot({ path: artifact('streaming-table.png') });
  await answered(page);
  assert.equal(await page.$$eval('.msg.assistant.latest .md table td', (tds) => tds.map((t) => t.textContent).join(',')), '1,2,3,4');
});

test('Shift+Enter makes a new line; Enter sends', async () => {
  await page.fill('#composer-input', 'line one');
  await page.press('#composer-input', 'Shift+Enter');
  await page.type('#composer-input', 'line two');
  assert.equal(await page.inputValue('#composer-input'), 'line one\nline two');
  await page.press('#composer-input', 'Enter');
  await answered(page);
  assert.equal(await page.locator('.msg.user').last().textContent(), 'line one\nline two');
});

test('Stop ends a streaming answer, keeps the partial text, and the reload shows it stopped', async () => {
  const tokens = Array.from({ length: 30 }, (_, i) => `w${i} `);
  await script(server, { tokens, delay: 0.25 });
  await ask(page, 'Talk for a long time');
  await page.waitForFunction(() => { const l = document.querySelector('.msg.live .md'); return l && l.textContent.includes('w3'); }, null, { timeout: 15000 });
  const stopped = page.waitForResponse((r) => /\/api\/chat\/[^/]+\/stop$/.test(r.url()));
  await page.click('#stop');
  assert.equal((await stopped).status(), 202);
  const id = await answered(page, 10000);
  const text = (await page.textContent('.msg.assistant.latest .md')).trim();
  assert.ok(text.startsWith('w0 w1 w2 w3'), 'partial text kept: ' + text);
  assert.ok(!text.includes('w29'), 'the answer did not run to its end: ' + text);
  assert.match(await page.textContent('.msg.assistant.latest .who'), /Stopped/);
  assert.equal(await page.isEditable('#composer-input'), true);
  await page.reload();
  await appReady(page);
  await page.waitForSelector(`.msg.assistant[data-step="${id}"]`);
  assert.match(await page.textContent(`.msg.assistant[data-step="${id}"] .who`), /Stopped/);
  assert.equal((await page.textContent(`.msg.assistant[data-step="${id}"] .md`)).trim(), text, 'the saved answer is what was shown');
});

test('Stop while the backend is silent ends the answer at once, and nothing after it is kept', async () => {
  await script(server, { tokens: ['Partial ', 'answer ', 'that ', 'never ', 'ends.'], hold_after: 2, hold_seconds: 20 });
  await ask(page, 'Start and hold');
  await page.waitForFunction(() => { const l = document.querySelector('.msg.live .md'); return l && l.textContent.includes('answer'); }, null, { timeout: 15000 });
  const stopped = page.waitForResponse((r) => /\/api\/chat\/[^/]+\/stop$/.test(r.url()));
  await page.click('#stop');
  assert.equal((await stopped).status(), 202);
  let endedAlone = true;
  try {
    await answered(page, 3000);        // the module ends the stream without waiting for the backend
  } catch (e) {
    endedAlone = false;
  }
  await release(server);
  const id = await answered(page, 15000);
  const text = (await page.textContent('.msg.assistant.latest .md')).trim();
  assert.ok(text.startsWith('Partial answer'), 'partial text kept: ' + text);
  assert.ok(!text.includes('ends.'), 'nothing after the stop: ' + text);
  assert.match(await page.textContent('.msg.assistant.latest .who'), /Stopped/);
  await page.reload();
  await appReady(page);
  await page.waitForSelector(`.msg.assistant[data-step="${id}"]`);
  assert.ok(!(await page.textContent(`.msg.assistant[data-step="${id}"] .md`)).includes('ends.'));
  assert.ok(endedAlone, 'the stream ended within 3 s of the stop while the backend sent nothing');
});

test('reload while an answer streams: reopening the thread shows the saved answer', async () => {
  await script(server, { tokens: ['Saved ', 'even ', 'when ', 'the ', 'browser ', 'left.'], hold_after: 2, hold_seconds: 20 });
  await ask(page, 'Survive a reload');
  await page.waitForFunction(() => { const l = document.querySelector('.msg.live .md'); return l && l.textContent.includes('even'); }, null, { timeout: 15000 });
  const tid = await currentThread(page);
  assert.ok(tid);
  await page.reload();
  await release(server);
  await appReady(page);
  assert.equal(await currentThread(page), tid, 'the URL still names the thread');
  // the module saves the answer when the backend ends: poll by reopening
  let text = '';
  for (let i = 0; i < 40 && !text.includes('left.'); i++) {
    await page.waitForTimeout(250);
    await page.reload();
    await appReady(page);
    text = await page.evaluate(() => { const a = document.querySelectorAll('.msg.assistant .md'); return a.length ? a[a.length - 1].textContent : ''; });
  }
  assert.match(text, /Saved even when the browser left\./);
  const users = await page.$$eval('.msg.user', (u) => u.map((x) => x.textContent));
  assert.ok(users.includes('Survive a reload'));
});

test('a backend failure before the answer shows an inline error with Retry, and Retry works', async () => {
  await script(server, { status: 500, body_message: 'model exploded' });
  await ask(page, 'Please fail once');
  await page.waitForSelector('.msg.assistant .notice', { timeout: 15000 });
  assert.equal(await page.isVisible('.msg.assistant .notice [data-act=retry]'), true);
  assert.ok((await page.textContent('.msg.assistant .notice')).length > 10);
  assert.equal(await page.isEditable('#composer-input'), true, 'the composer is usable again');
  await page.click('.msg.assistant .notice [data-act=retry]');
  await answered(page);
  assert.match(await page.textContent('.msg.assistant.latest .md'), /Echo: Please fail once/);
});

test('a stream cut mid-answer is reported, and the saved part can be reloaded', async () => {
  await script(server, { tokens: ['Half ', 'of ', 'it ', 'and ', 'then'], break_after: 3, delay: 0.1 });
  await ask(page, 'Cut me off');
  await page.waitForSelector('.msg.assistant .notice', { timeout: 15000 });
  assert.match(await page.textContent('.msg.assistant .notice'), /\S/);
  const tid = await currentThread(page);
  const t = await api(page, 'GET', 'api/threads/' + tid);
  assert.equal(t.status, 200);
  const last = t.json.steps[t.json.steps.length - 1];
  assert.equal(last.type, 'assistant_message');
  assert.match(last.output, /Half of it/);
  assert.deepEqual(page.errors, []);
});

test('a question the database refuses: the answer stops, the chat leaves the list, Retry sends it again', async () => {
  const words = 'Please do not keep me';
  // A trigger that works 0.4 s, then refuses the question: the answer has begun.
  sql(server, `CREATE TRIGGER rc_e2e_reject BEFORE INSERT ON steps WHEN new.output = '${words}' BEGIN SELECT RAISE(ABORT, 'rejected by the test') WHERE length(hex(randomblob(20000000))) > 0; END;`);
  await page.click('#new-chat');
  await script(server, { tokens: ['Never ', 'kept ', 'at ', 'all ', 'here.'], delay: 0.3 });
  await ask(page, words);
  await page.waitForSelector('.msg.assistant .notice', { timeout: 15000 });
  assert.match(await page.textContent('.msg.assistant .notice'), /could not be saved/);
  assert.equal(await currentThread(page), null, 'the address names no chat');
  const names = await page.$$eval('.thread', (els) => els.map((e) => e.textContent));
  assert.ok(!names.some((n) => n.includes(words)), 'the unsaved chat is not listed: ' + names);
  assert.equal(await page.isEditable('#composer-input'), true, 'the composer is usable again');
  sql(server, 'DROP TRIGGER rc_e2e_reject;');
  await script(server, { tokens: ['Kept ', 'now.'] });
  await page.click('.msg.assistant .notice [data-act=retry]');
  await answered(page);
  assert.match(await page.textContent('.msg.assistant.latest .md'), /Kept now\./);
  const tid = await currentThread(page);
  assert.ok(tid, 'the chat saved on Retry is the current one');
  const t = await api(page, 'GET', 'api/threads/' + tid);
  assert.deepEqual(t.json.steps.map((s) => s.output), [words, 'Kept now.']);
  assert.equal(await page.$$eval('.msg.user', (els) => els.length), 1, 'the question is shown once');
  assert.deepEqual(page.errors, []);
});
