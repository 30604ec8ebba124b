// Screenshots of the main pages in Simplified Chinese, in English and in elder mode (长辈版),
// on a 390 × 844 phone, saved under e2e/screenshots/ (CI keeps them as artifacts; docs/UI.md
// shows copies from docs/screenshots/). Each page is also checked like every other page:
// language, title, axe-core (WCAG 2.1 A/AA) and no sideways scrolling.
//
// Run with `bash e2e/run.sh` (E2E_FILES=e2e/screenshots.test.mjs for this file alone).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { checkPage, launch, newContext, readSmsCode, scrollWidth, submit, url } from './lib.mjs';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
const MODES = [
  { mode: 'zh', en: false, elder: false },
  { mode: 'en', en: true, elder: false },
  { mode: 'elder', en: false, elder: true },
];
// 林晓燕 is in the demo population registry.
const PERSON = { name: '林晓燕', residentId: '330102199007220264', phone: '13800138011', password: 'Baidi-Lake9#' };

let browser;
before(async () => {
  browser = await launch();
  mkdirSync(DIR, { recursive: true });
});
after(async () => {
  await browser?.close();
});

/** Opens `path` in the mode, checks the page and saves `<name>-<mode>.png`. */
async function shoot(page, name, path, { mode, en, elder }) {
  // Both switches are kept in cookies: set them on every page.
  const target = new URL(url(path, en));
  target.searchParams.set('lang', en ? 'en' : 'zh');
  target.searchParams.set('elder', elder ? '1' : '0');
  await page.goto(target.toString());
  await checkPage(page, { en, what: `${name} (${mode})` });
  const width = await scrollWidth(page);
  assert.ok(width <= 390, `${name} (${mode}) scrolls sideways: ${width}px`);
  await page.screenshot({ path: join(DIR, `${name}-${mode}.png`) });
}

async function press(page, name) {
  await submit(page, () => page.getByRole('button', { name, exact: true }).click());
}

describe('screenshots of the main pages', { timeout: 240_000 }, () => {
  test('public pages', async () => {
    const context = await newContext(browser, PHONE);
    const page = await context.newPage();
    await page.goto(url(`/search?q=${encodeURIComponent('公积金')}`));
    const item = await page.locator('a[href^="/items/"]').first().getAttribute('href');
    for (const m of MODES) {
      await shoot(page, 'home', '/', m);
      await shoot(page, 'search', `/search?q=${encodeURIComponent('公积金')}`, m);
      await shoot(page, 'item-guide', item, m);
      await shoot(page, 'bundle-guide', '/bundles/ZJ-BIRTH', m);
      await shoot(page, 'sign-in', '/sign-in', m);
      await shoot(page, 'staff-sign-in', '/staff/sign-in', m);
    }
    await context.close();
  });

  test('a signed-in person applying', async () => {
    const context = await newContext(browser, PHONE);
    const page = await context.newPage();
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
    await page.goto(url('/bundles/ZJ-BIRTH'));
    await press(page, '开始办理');
    const application = new URL(page.url()).pathname.replace(/\/questions$/, '');
    for (const m of MODES) {
      await shoot(page, 'application-tasks', application, m);
      await shoot(page, 'application-questions', `${application}/questions`, m);
      await shoot(page, 'my-applications', '/me/applications', m);
    }
    await context.close();
  });
});
