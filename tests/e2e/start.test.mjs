// The empty chat: RagChatReadme and RagChatStarter prompts (a click sends one);
// the built-in backend's sources under its answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { login, appReady, answered, backendMessages, artifact, openSession, closeSession } from './helpers.mjs';

let server, browser, page;

before(async () => {
  ({ server, browser, page } = await openSession({
    extra: ['--extra-location', 'RagChatStarter "Summarize my documents" "Give me a summary of the documents I uploaded."',
      '--extra-location', 'RagChatStarter "What can you do?"',
      '--extra-location', 'RagChatReadme "**Welcome to the handbook chat.** Ask about leases, deposits and notice periods, or upload your own documents."'],
  }));
});
after(() => closeSession({ server, browser }));

test('the empty chat shows the readme and the starters; a starter sends its message', async () => {
  await page.waitForSelector('.welcome .readme');
  assert.equal(await page.textContent('.welcome .readme strong'), 'Welcome to the handbook chat.');
  assert.deepEqual(await page.$$eval('.starters .starter', (b) => b.map((x) => x.textContent)),
    ['Summarize my documents', 'What can you do?']);
  await page.screenshot({ path: artifact('empty-chat-starters.png') });
  await page.click('.starter >> text=Summarize my documents');
  await answered(page);
  assert.deepEqual((await backendMessages(server)).at(-1), [['user', 'Give me a summary of the documents I uploaded.']]);
  assert.equal(await page.textContent('.msg.user .bubble'), 'Give me a summary of the documents I uploaded.');
  assert.equal(await page.$('.starters'), null, 'the starters leave with the empty chat');
  // a new chat shows them again; the keyboard reaches them
  await page.click('#new-chat');
  await page.waitForSelector('.starters');
  await page.focus('.starter >> nth=1');
  await page.keyboard.press('Enter');
  await answered(page);
  assert.deepEqual((await backendMessages(server)).at(-1), [['user', 'What can you do?']]);
  assert.deepEqual(page.errors, []);
});

test('the built-in backend: the passages it quotes are listed as sources', async () => {
  const b = await openSession({ login: false, extra: ['--backend', 'builtin'] });
  try {
    const p = b.page;
    await login(p, b.server);
    const chooser = p.waitForEvent('filechooser');
    await p.click('#attach');
    await (await chooser).setFiles([{ name: 'lease.md', mimeType: 'text/markdown',
      buffer: Buffer.from('# Lease\n\nThe tenant pays a deposit of two months of rent, refunded within thirty days after the keys are returned.\n\nPets are allowed with the written consent of the landlord.\n') }]);
    await p.click('#send');
    await p.waitForSelector('.msg.assistant .md:has-text("Ingested")', { timeout: 30000 });
    // an ingestion notice is not an answer: no thumbs, no PDF, no regenerate
    assert.equal(await p.$('.msg.assistant.ingest .acts'), null);
    await p.fill('#composer-input', 'When is the deposit refunded?');
    await p.press('#composer-input', 'Enter');
    await p.waitForSelector('.msg.assistant.latest:not(.live) .sources');
    assert.equal((await p.textContent('.msg.assistant.latest .sources summary')).trim(), 'Sources (1)');
    await p.click('.msg.assistant.latest .sources summary');
    assert.match(await p.textContent('.msg.assistant.latest .sources li'), /lease\.md.*passage 1.*1\.00/);
    assert.doesNotMatch(await p.textContent('.msg.assistant.latest .md'), /```|"sources"/);
    await p.reload();
    await appReady(p);
    await p.waitForSelector('.msg.assistant.latest .sources');
    assert.equal(await p.$('.msg.assistant.ingest .acts'), null, 'no actions on the notice after a reload either');
    assert.deepEqual(p.errors, []);
  } finally {
    await closeSession(b);
  }
});
