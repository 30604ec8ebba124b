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
  PHONE,
  PERSON,
  applyForBirth,
  checkPage,
  launch,
  newContext,
  press,
  registerPerson,
  scrollWidth,
  submit,
  url,
} from './lib.mjs';

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

describe('citizen portal', { timeout: 180_000 }, () => {
  test('a citizen applies for the birth bundle end to end on a phone', async () => {
    const context = await newContext(browser, PHONE);
    const page = await context.newPage();
    // Register (SMS code from the sandbox inbox) and verify the real name.
    await registerPerson(context, page);

    await applyForBirth(page, (p, what) => look(p, what, { js: true }));
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
    await applyForBirth(page, (p, what) => look(p, what, { js: false }));
    assert.equal(await page.locator('html').getAttribute('class'), 'elder');
    await context.close();
  });
});
