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
