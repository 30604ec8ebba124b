// Browser tests of the citizen portal (issue 6): a person applies for the birth bundle on a
// 390 × 844 phone, from the home page to the confirmation with the case numbers; then again in
// elder mode (长辈版) with JavaScript turned off. Every page is checked with axe-core (WCAG 2.1
// A/AA, when JavaScript runs), for the language on <html>, a plain-text title, and no
// horizontal scrolling.
//
// Run with `bash e2e/run.sh`, which starts a fresh `onetrip demo` for each test file.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  BASE,
  checkPage,
  launch,
  newContext,
  readSmsCode,
  scrollWidth,
  session,
  submit,
  url,
} from './lib.mjs';

// 陈志明 is in the demo population registry, and the hospital reported his baby's birth.
const PERSON = {
  name: '陈志明',
  residentId: '330102198503140138',
  phone: '13800138000',
  password: 'Lianhua-Qiao7#',
};
const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36',
};

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
  // The figures for docs/BENCHMARKS.md.
  for (const [what, bytes] of WEIGHTS) console.log(`page weight: ${what}: ${bytes} bytes`);
});

/** Page weights seen, by page: HTML and every resource, uncompressed (the budget is 100 KB). */
export const WEIGHTS = new Map();
const BUDGET = 100 * 1024;

/**
 * Checks a page: language, title, axe (when scripts run), no sideways scrolling, and its
 * weight (document and resources, uncompressed, as if nothing were cached) within the budget.
 */
async function look(page, what, { js = true } = {}) {
  if (js) {
    // The stylesheet is counted by fetching it again: a cached one reports no size.
    const weight = await page.evaluate(async () => {
      const entries = [
        ...performance.getEntriesByType('navigation'),
        ...performance.getEntriesByType('resource').filter((e) => !e.name.includes('.css')),
      ];
      const other = entries.reduce((sum, e) => sum + (e.decodedBodySize || 0), 0);
      let css = 0;
      for (const link of document.querySelectorAll('link[rel=stylesheet]')) {
        css += (await (await fetch(link.href)).blob()).size;
      }
      return other + css;
    });
    WEIGHTS.set(what, weight);
    assert.ok(weight <= BUDGET, `${what} weighs ${weight} bytes, over ${BUDGET}`);
    await checkPage(page, { en: false, what });
    const width = await scrollWidth(page);
    assert.ok(width <= page.viewportSize().width, `${what} scrolls sideways: ${width}px`);
  } else {
    const lang = await page.locator('html').getAttribute('lang');
    assert.equal(lang, 'zh-CN', `language of ${what}`);
  }
}

/** Clicks a submit button by its name and waits for the next page. */
async function press(page, name) {
  await submit(page, () => page.getByRole('button', { name, exact: true }).click());
}

/** The journey from the home page to the confirmation. */
async function applyForBirth(page, { js }) {
  await page.goto(url('/'));
  await look(page, 'the home page', { js });
  await submit(page, () => page.getByRole('link', { name: '新生儿出生“一件事”' }).first().click());
  await look(page, 'the bundle guide', { js });
  assert.ok(
    await page.getByText('跑动次数').isVisible(),
    `the bundle guide at ${page.url()}: ${await page.locator('main').textContent()}`,
  );
  await press(page, '开始办理');

  // 1. The questionnaire: the card question appears once insurance is chosen.
  assert.match(page.url(), /\/applications\/[^/]+\/questions$/);
  await look(page, 'the questionnaire', { js });
  await page.getByRole('group', { name: '新生儿父母是否已办理结婚登记？' }).getByLabel('是').check();
  await page.getByRole('group', { name: '是否同时为新生儿参加城乡居民基本医疗保险？' }).getByLabel('是').check();
  await press(page, '保存并继续');
  await look(page, 'the questionnaire with the revealed question', { js });
  assert.ok(await page.locator('#error-summary').isVisible(), 'the unanswered question is listed');
  await page.getByRole('group', { name: '是否同时申领社会保障卡？' }).getByLabel('否').check();
  await press(page, '保存并继续');

  // 2. One form, prefilled.
  assert.match(page.url(), /\/form$/);
  await look(page, 'the prefilled form', { js });
  assert.equal(await page.getByLabel('新生儿姓名').inputValue(), '陈思远');
  await page.getByLabel('所在区县').selectOption('330106');
  await page.getByLabel('详细地址').fill('浙江大学医学院附属妇产科医院');
  await page.getByRole('group', { name: '落户方式' }).getByLabel('随父落户').check();
  await page.getByRole('group', { name: '新生儿与户主关系' }).getByLabel('子', { exact: true }).check();
  // The rest only the applicant knows: the first option of each choice left.
  for (const group of ['缴费方式', '申请人与新生儿关系']) {
    await page.getByRole('group', { name: group }).getByRole('radio').first().check();
  }
  await page.locator('input[name="delivery_method"][value="pickup"]').check();
  await page.getByLabel('联系电话').fill('13957100001');
  await press(page, '保存并继续');
  if (page.url().endsWith('/form')) {
    const summary = await page.locator('#error-summary').textContent().catch(() => '');
    assert.fail(`the form was not accepted: ${summary}`);
  }

  // 3. Materials: all fetched.
  assert.match(page.url(), /\/materials$/);
  await look(page, 'the materials', { js });
  assert.ok(await page.getByText('您无需上传任何材料').isVisible());
  await submit(page, () => page.getByRole('link', { name: '继续' }).click());

  // 4. Check, 5. submit, 6. confirmation.
  assert.match(page.url(), /\/check$/);
  await look(page, 'check your answers', { js });
  assert.ok(await page.getByText('陈思远').first().isVisible());
  await press(page, '提交申请');
  assert.match(page.url(), /\/me\/applications\/[^/?]+\?submitted=1$/);
  await look(page, 'the confirmation', { js });
  assert.ok(await page.getByRole('heading', { name: '申请已提交' }).isVisible());
  const numbers = await page.locator('.success strong').allTextContents();
  assert.equal(numbers.length, 4, `four case numbers: ${numbers}`);
  for (const n of numbers) assert.match(n, /^330106-\d{8}-\d{6}$/);
}

describe('citizen portal', { timeout: 180_000 }, () => {
  test('a citizen applies for the birth bundle end to end on a phone', async () => {
    const context = await newContext(browser, PHONE);
    const page = await context.newPage();
    // Register (SMS code from the sandbox inbox) and verify the real name.
    await page.goto(url('/register?next=/'));
    await page.fill('#name', PERSON.name);
    await page.fill('#resident_id', PERSON.residentId);
    await page.fill('#phone', PERSON.phone);
    await press(page, '获取验证码');
    const inbox = await context.newPage();
    const code = await readSmsCode(inbox, PERSON.phone, false);
    await inbox.close();
    await page.fill('#sms_code', code);
    await page.fill('#password', PERSON.password);
    await press(page, '注册');
    await page.goto(url('/step-up?next=/'));
    await press(page, '立即核验');
    assert.equal((await session(page)).assurance_level, 'L2');

    await applyForBirth(page, { js: true });
    // My applications lists it.
    await page.goto(url('/me/applications'));
    await look(page, 'my applications', { js: true });
    assert.ok(await page.getByRole('link', { name: '新生儿出生“一件事”' }).first().isVisible());
    await context.close();
  });

  test('the same in elder mode, with JavaScript turned off', async () => {
    const context = await newContext(browser, { ...PHONE, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(url('/sign-in?next=/'));
    await page.fill('#login', PERSON.phone);
    await page.fill('#password', PERSON.password);
    await press(page, '登录');
    await page.goto(url('/step-up?next=/'));
    await press(page, '立即核验');
    // The entry to the elder mode is on every page; it stays on.
    await page.goto(url('/'));
    await submit(page, () => page.getByRole('link', { name: '长辈版' }).click());
    assert.equal(await page.locator('html').getAttribute('class'), 'elder');
    // Main text at least 18 pt (24 px), line height at least 1.3, targets at least 60 × 60.
    const body = await page.locator('body').evaluate((b) => {
      const s = getComputedStyle(b);
      return { size: parseFloat(s.fontSize), line: parseFloat(s.lineHeight) };
    });
    assert.ok(body.size >= 24, `elder text ${body.size}px`);
    assert.ok(body.line / body.size >= 1.3, `elder line height ${body.line / body.size}`);
    const small = await page.locator('main a, main button, header a, header button').evaluateAll((els) =>
      els
        .map((e) => ({ text: e.textContent.trim(), r: e.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 0 && (r.height < 60 || r.width < 60))
        .map(({ text, r }) => `${text} ${Math.round(r.width)}×${Math.round(r.height)}`),
    );
    assert.deepEqual(small, [], 'touch targets smaller than 60 × 60 in elder mode');
    await applyForBirth(page, { js: false });
    assert.equal(await page.locator('html').getAttribute('class'), 'elder');
    await context.close();
  });
});
