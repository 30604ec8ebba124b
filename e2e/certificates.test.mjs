// Browser tests of the citizen's certificates (issue 6, "a citizen shows a certificate, and the
// public verification page confirms it"): a person opens My certificates on a 360 px phone,
// shows the identity card with two fields chosen, reads the link of the QR code, and a stranger
// opening it in a fresh browser sees it verified with only those fields. The data-use log and
// the account pages are visited too. Every page is checked with axe-core (WCAG 2.1 A/AA), for
// its language and title, and for no sideways scrolling.
//
// Run with `bash e2e/run.sh` (E2E_FILES=e2e/certificates.test.mjs for this file alone).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  BASE,
  MODES,
  checkPage,
  launch,
  newContext,
  press,
  registerPerson,
  scrollWidth,
  shoot,
  submit,
  url,
} from './lib.mjs';

// 陈志明 is in the demo population registry and holds the demo certificates.
const PERSON = {
  name: '陈志明',
  residentId: '330102198503140138',
  phone: '13800138000',
  password: 'Lianhua-Qiao7#',
};
const PHONE = {
  viewport: { width: 360, height: 780 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Language, title, axe, and no sideways scrolling at the viewport's width. */
async function look(page, what, en = false) {
  await checkPage(page, { en, what });
  const width = await scrollWidth(page);
  assert.ok(width <= page.viewportSize().width, `${what} scrolls sideways: ${width}px`);
}

/** The terms of the disclosed-fields list. */
async function disclosedTerms(page) {
  return (await page.locator('#disclosed dt').allTextContents()).map((t) => t.trim());
}

describe('certificates', { timeout: 180_000 }, () => {
  test('a citizen shows a certificate and the public verification page confirms it', async () => {
    const context = await newContext(browser, PHONE);
    const page = await context.newPage();
    // Register (SMS code from the sandbox inbox) and verify the real name.
    await registerPerson(context, page, PERSON);

    // Home links My certificates; the list shows the identity card.
    await page.goto(url('/'));
    await submit(page, () => page.locator('main').getByRole('link', { name: '我的证照' }).click());
    assert.equal(new URL(page.url()).pathname, '/me/certificates');
    await look(page, 'my certificates');
    assert.ok(await page.getByRole('heading', { name: '居民身份证' }).isVisible());
    assert.ok(await page.getByText('330102********0138').first().isVisible());
    await submit(page, () => page.getByRole('link', { name: '亮证 居民身份证' }).click());
    assert.match(page.url(), /\/me\/certificates\/[^/]+\/show$/);
    await look(page, 'the show page');

    // Nothing chosen: the problem is next to the checkboxes.
    await press(page, '生成亮证码');
    await look(page, 'the show page with its problem');
    assert.ok(await page.locator('#error-summary').isVisible());
    assert.ok(await page.locator('#disclosure-error').isVisible());

    // Two fields.
    await page.getByLabel('姓名', { exact: true }).check();
    await page.getByLabel('出生', { exact: true }).check();
    await press(page, '生成亮证码');
    assert.match(page.url(), /\/show\?token=/);
    await look(page, 'the code');
    const qr = page.getByRole('img', { name: /亮证二维码/ });
    assert.ok(await qr.isVisible(), 'the QR code is shown');
    const box = await qr.boundingBox();
    assert.ok(box.width >= 150 && box.width <= 360, `QR code ${box.width}px wide`);
    assert.ok((await page.locator('.qr svg path').count()) === 1, 'an inline SVG');
    assert.deepEqual(await disclosedTerms(page), ['姓名', '出生']);
    const link = (await page.locator('#presentation-link').textContent()).trim();
    assert.ok(link.startsWith(`${BASE}/verify/`), link);
    const codePage = new URL(page.url());

    // A stranger opens the link in a fresh browser: verified, only the chosen fields.
    const stranger = await newContext(browser, PHONE);
    const other = await stranger.newPage();
    await other.goto(link);
    await look(other, 'the public verification page');
    assert.match(await other.getByRole('status').textContent(), /核验通过/);
    assert.deepEqual(await disclosedTerms(other), ['姓名', '出生']);
    const main = await other.locator('main').textContent();
    assert.ok(main.includes('陈志明') && main.includes('1985-03-14'), main);
    assert.ok(!main.includes('文三路') && !main.includes(PERSON.residentId), 'nothing else shown');
    // In English and in the elder mode too.
    await other.goto(`${link}?lang=en`);
    await look(other, 'the public verification page in English', true);
    assert.deepEqual(await disclosedTerms(other), ['Name', 'Date of birth']);
    await other.goto(`${link}?lang=zh&elder=1`);
    await look(other, 'the public verification page in elder mode');
    assert.equal(await other.locator('html').getAttribute('class'), 'elder');
    await stranger.close();

    // The holder's code page in the elder mode.
    await page.goto(`${page.url()}&elder=1`);
    await look(page, 'the code in elder mode');
    assert.ok(await page.getByRole('img', { name: /亮证二维码/ }).isVisible());

    // Who used my data, and the account.
    await page.goto(url('/me/data-access'));
    await look(page, 'who used my data');
    await submit(page, () => page.locator('header').getByRole('link', { name: '我的账户' }).click());
    assert.equal(new URL(page.url()).pathname, '/me/account');
    await look(page, 'my account');
    assert.ok(await page.getByText('二级（已实名认证）').isVisible());

    // Screenshots of these pages in Chinese, English and elder mode (checked again each time).
    for (const m of MODES) {
      await shoot(page, 'my-certificates', '/me/certificates', m);
      await shoot(page, 'certificate-code', `${codePage.pathname}${codePage.search}`, m);
      await shoot(page, 'certificate-verification', new URL(link).pathname, m);
      await shoot(page, 'data-access', '/me/data-access', m);
      await shoot(page, 'account', '/me/account', m);
    }
    await context.close();
  });

  test('showing a certificate works with JavaScript turned off', async () => {
    const context = await newContext(browser, { ...PHONE, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(url('/sign-in?next=/me/certificates'));
    await page.fill('#login', PERSON.phone);
    await page.fill('#password', PERSON.password);
    await press(page, '登录');
    assert.equal(new URL(page.url()).pathname, '/me/certificates');
    await submit(page, () => page.getByRole('link', { name: '亮证 居民身份证' }).click());
    await page.getByLabel('姓名', { exact: true }).check();
    await press(page, '生成亮证码');
    assert.match(page.url(), /\/show\?token=/);
    assert.equal(await page.locator('.qr svg').count(), 1);
    const link = (await page.locator('#presentation-link').textContent()).trim();
    await page.goto(link);
    assert.match(await page.locator('.verdict').textContent(), /核验通过/);
    assert.deepEqual(await disclosedTerms(page), ['姓名']);
    await context.close();
  });
});
