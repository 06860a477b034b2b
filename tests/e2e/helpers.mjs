// Shared helpers of the end-to-end suite: a real httpd with the module (through
// tests/harness.py), the fake backend's control endpoints, Debian's chromium.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = path.join(REPO, 'artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/* Starts `harness.py serve` and resolves with its JSON line plus stop(). */
export async function startServer({ auth = 'form', extra = [] } = {}) {
  // RAGCHAT_E2E_HARNESS: another command with the same interface (e.g. a fake of the module)
  const cmd = process.env.RAGCHAT_E2E_HARNESS ? [process.env.RAGCHAT_E2E_HARNESS]
    : ['/usr/bin/python3', path.join(REPO, 'tests', 'harness.py')];
  const proc = spawn(cmd[0], [...cmd.slice(1), 'serve', '--auth', auth, ...extra], {
    cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], env: process.env,
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('harness did not start in 60 s\n' + stderr)), 60000);
    const rl = createInterface({ input: proc.stdout });
    rl.once('line', (line) => {
      clearTimeout(timer);
      try { resolve(JSON.parse(line)); } catch (e) { reject(new Error('harness printed ' + line + '\n' + stderr)); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error('harness exited with ' + code + '\n' + stderr)); });
  });
  proc.removeAllListeners('exit');
  info.proc = proc;
  info.stderr = () => stderr;
  info.stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    const t = setTimeout(() => proc.kill('SIGKILL'), 15000);
    proc.once('exit', () => { clearTimeout(t); resolve(); });
    proc.kill('SIGTERM');
  });
  info.base = info.url.endsWith('/') ? info.url : info.url + '/';
  info.db = path.join(info.root, 'data', 'chat_history.db');
  return info;
}

/* The chat requests the fake backend received: [{role, content}] lists. */
export async function backendMessages(server) {
  const r = await fetch(server.backend + '/_requests');
  return (await r.json()).filter((x) => x.path === '/v1/chat/completions')
    .map((x) => x.json.messages.map((m) => [m.role, m.content]));
}

/* The fake backend's control endpoints. */
export async function script(server, ...scripts) {
  const r = await fetch(server.backend + '/_script', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(scripts),
  });
  if (!r.ok) throw new Error('/_script answered ' + r.status);
}
export async function release(server) {
  await fetch(server.backend + '/_release', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
}
export async function resetBackend(server) {
  await fetch(server.backend + '/_reset', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright gives every launch a fresh temporary user-data-dir
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/* A page in a new context; records dialogs (XSS tripwire) and page errors. */
export async function newPage(browser, { width = 1280, height = 860, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme, acceptDownloads: true });
  const page = await context.newPage();
  page.dialogs = [];
  page.errors = [];
  page.on('dialog', (d) => { page.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) page.errors.push(m.text()); });
  return page;
}

/* Form login through B/login, then the app is ready. */
export async function login(page, server, user = 'alice') {
  await page.goto(server.base);
  await page.waitForSelector('#login-form');
  await page.fill('#username', user);
  await page.fill('#password', server.users[user]);
  await Promise.all([page.waitForNavigation(), page.click('#login-submit')]);
  await appReady(page);
}

export async function appReady(page) {
  await page.waitForSelector('#app:not(.is-loading)');
  await page.waitForFunction(() => document.querySelector('#log').children.length > 0);
}

/* Types a message and sends it with Enter. */
export async function ask(page, text) {
  await page.fill('#composer-input', text);
  await page.press('#composer-input', 'Enter');
}

/* Waits until the running answer is over; returns its step id. */
export async function answered(page, timeout = 20000) {
  await page.waitForFunction(() => !document.querySelector('.msg.live') && !!document.querySelector('.msg.assistant.latest[data-step]'), null, { timeout });
  return page.$eval('.msg.assistant.latest', (m) => m.dataset.step);
}

export function currentThread(page) {
  return page.evaluate(() => { const m = /#\/thread\/([^/]+)/.exec(location.hash); return m ? decodeURIComponent(m[1]) : null; });
}

/* The page's session calling the API, like the app does. */
export function api(page, method, p, body) {
  return page.evaluate(async ([method, p, body]) => {
    const me = await (await fetch('api/me')).json();
    const r = await fetch(p, {
      method, headers: { 'X-CSRF-Token': me.csrf, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) { /* not json */ }
    return { status: r.status, json, text };
  }, [method, p, body]);
}

export function sql(server, statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', server.db], { input: statement, encoding: 'utf8' });
}

export function artifact(name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

/* A Chainlit-style timestamp, `ms` milliseconds from now. */
export function stamp(ms = 0) {
  return new Date(Date.now() + ms).toISOString().replace('Z', '000Z');
}

/* Fails on XSS tripwires: a dialog, an element carrying an on* handler from content, a stray script. */
export async function assertInert(page, assert) {
  assert.deepEqual(page.dialogs, [], 'no dialog may open');
  const bad = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.attributes) if (/^on/i.test(a.name)) out.push(el.tagName + '[' + a.name + ']');
    }
    const scripts = [...document.scripts].filter((s) => !/static\/js\/main\.js$/.test(s.src));
    if (scripts.length) out.push('script: ' + scripts.map((s) => s.src || s.textContent.slice(0, 40)).join(','));
    if (window.__xss) out.push('window.__xss set');
    return out;
  });
  assert.deepEqual(bad, [], 'no handler attribute or injected script in the DOM');
}

/* A server, a browser and a page, logged in as alice unless login is false:
 * what every suite's before() needs. */
export async function openSession({ auth = 'form', login: signIn = true, extra = [] } = {}) {
  const server = await startServer({ auth, extra });
  const browser = await launch();
  const page = await newPage(browser);
  if (signIn) await login(page, server);
  return { server, browser, page };
}

export async function closeSession({ server, browser } = {}) {
  if (browser) await browser.close();
  if (server) await server.stop();
}

/* axe-core's serious and critical violations on the page as it is (axe is
 * evaluated through the DevTools protocol: the page's CSP allows no inline
 * script). Each as "rule: target (summary)". */
let axeSource;
export async function axeViolations(page) {
  if (!axeSource) axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} (${n.failureSummary.replace(/\s+/g, ' ').slice(0, 200)})`));
}
