// Helpers of the browser tests: the browser, page checks (axe-core, language, title) and
// form submission that waits for the next document.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Base URL of the server under test (no trailing slash), set by run.sh. */
export const BASE = (process.env.ONETRIP_E2E_URL ?? '').replace(/\/$/, '');
/** The admin token the server was started with. */
export const ADMIN_TOKEN = process.env.ONETRIP_E2E_ADMIN_TOKEN ?? '';
if (!BASE || !ADMIN_TOKEN) {
  throw new Error('ONETRIP_E2E_URL and ONETRIP_E2E_ADMIN_TOKEN must be set: run bash e2e/run.sh');
}

/** WCAG 2.1 A and AA, the rules every page must pass. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // Containers often have a small /dev/shm; CI runs as root.
    args: ['--disable-dev-shm-usage', '--no-sandbox'],
  });
}

/**
 * A fresh browser context (no cookies) of a person whose browser is set to Chinese; pages in
 * English are asked for with `?lang=en`.
 */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    ...options,
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(15_000);
  // Every page keeps to its Content-Security-Policy (no inline script or style): violations are
  // collected here and checked by checkPage.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective}: ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  return context;
}

/** `path` on the server, with `lang=en` added when `en`. */
export function url(path, en) {
  const u = new URL(path, BASE);
  if (en) u.searchParams.set('lang', 'en');
  return u.toString();
}

/** Runs axe-core (WCAG 2.1 A/AA) on the page and fails with every violation spelled out. */
export async function expectNoAxeViolations(page, what) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(
    (tags) =>
      window.axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      }),
    AXE_TAGS,
  );
  const lines = result.violations.flatMap((v) => [
    `${v.id} (${v.impact}): ${v.help} ${v.helpUrl}`,
    ...v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
  ]);
  assert.equal(
    result.violations.length,
    0,
    `axe found ${result.violations.length} violation(s) on ${what} (${page.url()}):\n${lines.join('\n')}`,
  );
}

/**
 * Every page of the identity journeys: the right language on <html>, a plain-text title, and
 * no axe violations.
 */
export async function checkPage(page, { en, what }) {
  const { lang, title } = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    title: document.title,
  }));
  assert.equal(lang, en ? 'en' : 'zh-CN', `language of ${what} (${page.url()})`);
  assert.match(title, /^[^<>]+ · onetrip$/, `title of ${what}: ${JSON.stringify(title)}`);
  const csp = await page.evaluate(() => window.__cspViolations ?? []);
  assert.deepEqual(csp, [], `${what} breaks its Content-Security-Policy (${page.url()})`);
  await expectNoAxeViolations(page, what);
}

/**
 * Runs `action` (a click or key press that submits a form) and waits until the next
 * document is loaded, redirects followed.
 */
export async function submit(page, action) {
  const navigated = page.waitForEvent('framenavigated', {
    predicate: (frame) => frame === page.mainFrame(),
  });
  await action();
  await navigated;
  await page.waitForLoadState('load');
}

/** The session as the API sees it, with the context's cookies. */
export async function session(page) {
  const r = await page.request.get(`${BASE}/api/v1/session`);
  assert.equal(r.status(), 200, 'GET /api/v1/session');
  return r.json();
}

/** The newest six-digit code in the sandbox inbox of `phone`, read from the /dev/sms page. */
export async function readSmsCode(page, phone, en) {
  await page.goto(url(`/dev/sms?phone=${encodeURIComponent(phone)}`, en));
  await checkPage(page, { en, what: 'the sandbox SMS inbox' });
  const text = await page.locator('td.sms-body').first().textContent();
  const m = /(?<!\d)(\d{6})(?!\d)/.exec(text ?? '');
  assert.ok(m, `no six-digit code in the newest message to ${phone}: ${text}`);
  return m[1];
}

/** A PKCE verifier and its S256 challenge (43 characters each). */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** Whether the focused element shows a focus indicator (an outline that is not none). */
export async function focusState(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const style = el ? getComputedStyle(el) : null;
    return {
      tag: el?.tagName.toLowerCase() ?? '',
      id: el?.id ?? '',
      text: (el?.textContent ?? '').trim().slice(0, 40),
      outlineStyle: style?.outlineStyle ?? 'none',
      outlineWidth: parseFloat(style?.outlineWidth ?? '0'),
    };
  });
}

/** Horizontal overflow of the page: the scrolling element's scroll width. */
export async function scrollWidth(page) {
  return page.evaluate(() => document.scrollingElement.scrollWidth);
}

// 陈志明 is in the demo population registry, and the hospital reported his baby's birth.
export const PERSON = {
  name: '陈志明',
  residentId: '330102198503140138',
  phone: '13800138000',
  password: 'Lianhua-Qiao7#',
};
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36',
};

/**
 * Registers a person (PERSON unless another is given) on the pages (the SMS code read from the sandbox inbox) and verifies the
 * real name (L2).
 */
export async function registerPerson(context, page, person = PERSON) {
  await page.goto(url('/register?next=/'));
  await page.fill('#name', person.name);
  await page.fill('#resident_id', person.residentId);
  await page.fill('#phone', person.phone);
  await press(page, '获取验证码');
  const inbox = await context.newPage();
  const code = await readSmsCode(inbox, person.phone, false);
  await inbox.close();
  await page.fill('#sms_code', code);
  await page.fill('#password', person.password);
  await press(page, '注册');
  await page.goto(url('/step-up?next=/'));
  await press(page, '立即核验');
  assert.equal((await session(page)).assurance_level, 'L2');
}

/** Clicks a submit button by its name and waits for the next page. */
export async function press(page, name) {
  await submit(page, () => page.getByRole('button', { name, exact: true }).click());
}

/**
 * The birth bundle from the home page to the confirmation, `look(page, what)` checking every
 * page on the way; returns the case numbers and the confirmation's address.
 */
export async function applyForBirth(page, look) {
  await page.goto(url('/'));
  await look(page, 'the home page');
  await submit(page, () => page.getByRole('link', { name: '新生儿出生“一件事”' }).first().click());
  await look(page, 'the bundle guide');
  assert.ok(
    await page.getByText('跑动次数').isVisible(),
    `the bundle guide at ${page.url()}: ${await page.locator('main').textContent()}`,
  );
  await press(page, '开始办理');

  // 1. The questionnaire: the card question appears once insurance is chosen.
  assert.match(page.url(), /\/applications\/[^/]+\/questions$/);
  await look(page, 'the questionnaire');
  await page.getByRole('group', { name: '新生儿父母是否已办理结婚登记？' }).getByLabel('是').check();
  await page.getByRole('group', { name: '是否同时为新生儿参加城乡居民基本医疗保险？' }).getByLabel('是').check();
  await press(page, '保存并继续');
  await look(page, 'the questionnaire with the revealed question');
  assert.ok(await page.locator('#error-summary').isVisible(), 'the unanswered question is listed');
  await page.getByRole('group', { name: '是否同时申领社会保障卡？' }).getByLabel('否').check();
  await press(page, '保存并继续');

  // 2. One form, prefilled.
  assert.match(page.url(), /\/form$/);
  await look(page, 'the prefilled form');
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
  await look(page, 'the materials');
  assert.ok(await page.getByText('您无需上传任何材料').isVisible());
  await submit(page, () => page.getByRole('link', { name: '继续' }).click());

  // 4. Check, 5. submit, 6. confirmation.
  assert.match(page.url(), /\/check$/);
  await look(page, 'check your answers');
  assert.ok(await page.getByText('陈思远').first().isVisible());
  await press(page, '提交申请');
  assert.match(page.url(), /\/me\/applications\/[^/?]+\?submitted=1$/);
  await look(page, 'the confirmation');
  assert.ok(await page.getByRole('heading', { name: '申请已提交' }).isVisible());
  const numbers = await page.locator('.success strong').allTextContents();
  assert.equal(numbers.length, 4, `four case numbers: ${numbers}`);
  for (const n of numbers) assert.match(n, /^330106-\d{8}-\d{6}$/);
  return { numbers, confirmation: page.url() };
}

/** Where screenshots go (CI keeps them as artifacts; docs/UI.md shows copies). */
export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');

/** The three looks of every main page: Simplified Chinese, English, elder mode. */
export const MODES = [
  { mode: 'zh', en: false, elder: false },
  { mode: 'en', en: true, elder: false },
  { mode: 'elder', en: false, elder: true },
];

/**
 * Opens `path` in the mode, checks the page (language, title, axe, no sideways scrolling) and
 * saves `e2e/screenshots/<name>-<mode>.png`.
 */
export async function shoot(page, name, path, { mode, en, elder }) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Both switches are kept in cookies: set them on every page.
  const target = new URL(url(path, en));
  target.searchParams.set('lang', en ? 'en' : 'zh');
  target.searchParams.set('elder', elder ? '1' : '0');
  await page.goto(target.toString());
  await checkPage(page, { en, what: `${name} (${mode})` });
  const width = await scrollWidth(page);
  const viewport = page.viewportSize().width;
  assert.ok(width <= viewport, `${name} (${mode}) scrolls sideways: ${width}px`);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-${mode}.png`) });
}
