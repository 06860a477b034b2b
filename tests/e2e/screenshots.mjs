// The README's screenshots (docs/*.png), taken from a real httpd with the
// module and the fake backend in headless Chromium: `make screenshots`.
import path from 'node:path';
import { REPO, newPage, login, appReady, ask, answered, script, openSession, closeSession } from './helpers.mjs';

const DOCS = path.join(REPO, 'docs');
const shot = (p, name) => p.screenshot({ path: path.join(DOCS, name) });

const ANSWER = {
  tokens: [
    'The deposit is **two months of rent**, refunded within 30 days after the keys are returned ',
    '(minus documented damages). The monthly cost works out as\n\n',
    '$$\\text{monthly} = \\frac{\\text{rent} \\times 12 + \\text{charges}}{12}$$\n\n',
    '| Item | Amount | Due |\n|:--|--:|:-:|\n| Rent | 1,200.00 | 1st |\n| Charges | 85.50 | 1st |\n| Deposit | 2,400.00 | signing |\n\n',
    'To check a statement against the lease:\n\n',
    '```python\ndef monthly_cost(rent, charges):\n    # charges are billed per year\n    return rent + charges / 12  # "all in"\n```\n',
  ],
  json_preamble: { sources: [
    { title: 'Residential lease', file: 'lease-2024.pdf', page: 4, score: 0.92 },
    { title: 'Tenant handbook', file: 'handbook.pdf', page: 12, score: 0.81, url: 'https://example.com/handbook' },
  ] },
};

const s = await openSession({
  login: false, extra: ['--extra-location', 'RagChatTitle "Lease assistant"',
    '--extra-location', 'RagChatStarter "Summarize my lease"',
    '--extra-location', 'RagChatStarter "When is the rent due?"',
    '--extra-location', 'RagChatStarter "Can I keep a pet?" "Am I allowed to keep a cat in the flat?"',
    '--extra-location', 'RagChatReadme "Ask about **your lease**: deposits, rent, notice periods. Upload documents with the paperclip or by dropping them here."'],
});
try {
  const { page, browser, server } = s;
  await login(page, server);
  await page.waitForSelector('.starters');
  await shot(page, 'screenshot-start.png');

  await script(server, { tokens: ['A deposit is usually one to three months of rent.'] }, ANSWER);
  await ask(page, 'How much is the deposit, and when do I get it back?');
  await answered(page);
  await page.click('.msg.assistant.latest [data-act=regenerate]');
  await answered(page);
  await page.waitForSelector('.msg.assistant.latest .hljs-keyword');
  await page.waitForSelector('.msg.assistant.latest .katex');
  await page.click('.msg.assistant.latest .sources summary');
  await page.evaluate(() => { document.querySelector('#log').scrollTop = 0; });
  await page.waitForTimeout(300);
  await shot(page, 'screenshot-answer.png');

  const dark = await newPage(browser, { colorScheme: 'dark' });
  await dark.context().addCookies(await page.context().cookies());
  await dark.goto(page.url());
  await appReady(dark);
  await dark.waitForSelector('.msg.assistant .hljs-keyword');
  await dark.waitForSelector('.msg.assistant .katex');
  await dark.evaluate(() => { const l = document.querySelector('#log'); l.scrollTop = l.scrollHeight; });
  await dark.waitForTimeout(300);
  await shot(dark, 'screenshot-dark.png');

  const phone = await newPage(browser, { width: 390, height: 780 });
  await phone.context().addCookies(await page.context().cookies());
  await phone.goto(page.url());
  await appReady(phone);
  await phone.waitForSelector('.msg.assistant .katex');
  await phone.evaluate(() => { document.querySelector('#log').scrollTop = 0; });
  await phone.waitForTimeout(300);
  await shot(phone, 'screenshot-phone.png');
  console.log('docs/screenshot-{start,answer,dark,phone}.png written');
} finally {
  await closeSession(s);
}
