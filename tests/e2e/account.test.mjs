// The account menu: log out everywhere (form login), the site's own logout and
// session expiry behind mod_auth_form (RagChatAuth apache), and the note that
// a Basic login is held by the browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, newPage, login, appReady, ask, answered } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

async function openAccount(page) {
  await page.click('#account-btn');
  await page.waitForSelector('#account-menu:not([hidden])');
}

test('form login: log out everywhere ends the other sessions too', async () => {
  const server = await startServer({ auth: 'form' });
  try {
    const one = await newPage(browser);
    const two = await newPage(browser);
    await login(one, server);
    await login(two, server);
    await openAccount(one);
    assert.equal(await one.isVisible('#logout-all'), true);
    assert.equal(await one.isHidden('#login-note'), true);
    await Promise.all([one.waitForURL(/\/login/), one.click('#logout-all')]);
    // the other browser's session is gone as well: its next request goes to the login page
    await two.reload();
    await two.waitForSelector('#login-form');
    assert.deepEqual(one.errors, []);
    await one.context().close();
    await two.context().close();
  } finally {
    await server.stop();
  }
});

test('Basic auth: the menu says the browser holds the login', async () => {
  const server = await startServer({ auth: 'apache' });
  try {
    const ctx = await browser.newContext({ httpCredentials: { username: 'bob', password: server.users.bob } });
    const page = await ctx.newPage();
    await page.goto(server.base);
    await appReady(page);
    await openAccount(page);
    assert.match(await page.textContent('#login-note'), /browser holds this login/);
    assert.equal(await page.isHidden('#logout-all'), true);
    assert.equal(await page.isHidden('#logout-site'), true);
    await ctx.close();
  } finally {
    await server.stop();
  }
});

async function siteLogin(page, server) {
  await page.goto(server.base);
  await page.waitForSelector('#site-login');
  await page.fill('#site-user', 'alice');
  await page.fill('#site-password', server.users.alice);
  await Promise.all([page.waitForNavigation(), page.click('#site-submit')]);
  await appReady(page);
}

test('behind mod_auth_form: Log out uses the site logout, and an expired session goes to its login page', async () => {
  const server = await startServer({ auth: 'site-form', extra: ['--session-max-age', '4'] });
  try {
    const page = await newPage(browser);
    await siteLogin(page, server);
    await openAccount(page);
    assert.equal(await page.isVisible('#logout-site'), true);
    assert.equal(await page.isHidden('#login-note'), true);
    await Promise.all([page.waitForURL(/\/login\.html$/), page.click('#logout-site')]);

    // log in again, let the site's session expire, then use the app
    await siteLogin(page, server);
    await ask(page, 'before expiry');
    await answered(page);
    await page.waitForTimeout(4500);
    await Promise.all([page.waitForURL(/\/login\.html$/, { timeout: 15000 }), page.click('#new-chat')
      .then(() => page.fill('#composer-input', 'after expiry'))
      .then(() => page.press('#composer-input', 'Enter'))]);
    assert.equal(await page.isVisible('#site-login'), true);
    await page.context().close();
  } finally {
    await server.stop();
  }
});
