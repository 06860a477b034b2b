// RagChatAuth apache: the user comes from Apache (Basic here); no login page, no logout control.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, appReady, ask, answered } from './helpers.mjs';

let server, browser;

before(async () => {
  server = await startServer({ auth: 'apache' });
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('apache auth: the app opens for the Apache user, chats, and offers no logout', async () => {
  const ctx = await browser.newContext({ httpCredentials: { username: 'bob', password: server.users.bob } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.base);
  await appReady(page);
  assert.equal(await page.textContent('#user-name'), 'bob');
  assert.equal(await page.isHidden('#logout'), true);
  await ask(page, 'Hello from bob');
  await answered(page);
  assert.match(await page.textContent('.msg.assistant.latest .md'), /Echo: Hello from bob/);
  assert.deepEqual(errors, []);
  await ctx.close();
});
