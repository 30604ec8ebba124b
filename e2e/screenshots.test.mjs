// Screenshots of the main pages in Simplified Chinese, in English and in elder mode (长辈版),
// on the narrowest phone the pages are built for (360 × 800), saved under e2e/screenshots/ (CI keeps them as artifacts; docs/UI.md
// shows copies from docs/screenshots/). Each page is also checked like every other page:
// language, title, axe-core (WCAG 2.1 A/AA) and no sideways scrolling.
//
// Run with `bash e2e/run.sh` (E2E_FILES=e2e/screenshots.test.mjs for this file alone).
import { after, before, describe, test } from 'node:test';

import { ADMIN_TOKEN, BASE, MODES, launch, newContext, press, registerPerson, shoot, url } from './lib.mjs';

const PHONE = { viewport: { width: 360, height: 800 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
// 林晓燕 is in the demo population registry.
const PERSON = { name: '林晓燕', residentId: '330102199007220264', phone: '13800138011', password: 'Baidi-Lake9#' };

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Creates a member of staff with one role through the API and signs them in on the page. */
async function staffPage(context, { username, role, division, department }) {
  const r = await context.request.post(`${BASE}/api/v1/staff`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    data: {
      username,
      name: '演示工作人员',
      department_code: department ?? '11330100000897962X',
      division_code: division,
      roles: [{ role, division, ...(department ? { department } : {}) }],
    },
  });
  if (r.status() !== 201) throw new Error(`POST /api/v1/staff: ${r.status()} ${await r.text()}`);
  const { initial_password: password } = await r.json();
  const page = await context.newPage();
  await page.goto(url('/staff/sign-in'));
  await page.fill('#username', username);
  await page.fill('#password', password);
  await press(page, '登录');
  return page;
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
    await registerPerson(context, page, PERSON);
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

  test('the window clerk', async () => {
    const context = await newContext(browser, PHONE);
    const page = await staffPage(context, { username: 'shots-clerk', role: 'window_clerk', division: '330106' });
    await page.goto(url(`/search?q=${encodeURIComponent('公积金')}`));
    const item = (await page.locator('a[href^="/items/"]').first().getAttribute('href')).replace('/items/', '');
    for (const m of MODES) {
      await shoot(page, 'workbench', '/staff', m);
      await shoot(page, 'counter', '/counter', m);
      await shoot(page, 'counter-walk-in', `/counter/bundles/ZJ-BIRTH/apply`, m);
      await shoot(page, 'one-time-notice', `/counter/items/${item}/notice`, m);
    }
    await context.close();
  });

  test('the department officer and the supervisor', async () => {
    const context = await newContext(browser, PHONE);
    // The demo's birth-bundle cases wait at the city's human resources and social security bureau.
    const page = await staffPage(context, {
      username: 'shots-officer',
      role: 'department_officer',
      division: '330100',
      department: '113301000354023845',
    });
    await page.goto(url('/work/queue'));
    const first = await page.locator('a[href^="/work/cases/"]').first().getAttribute('href');
    for (const m of MODES) {
      await shoot(page, 'officer-queue', '/work/queue', m);
      await shoot(page, 'officer-case', first, m);
    }
    const supervisor = await staffPage(context, { username: 'shots-supervisor', role: 'supervisor', division: '330100' });
    for (const m of MODES) {
      await shoot(supervisor, 'supervision', '/supervision', m);
    }
    await context.close();
  });
});
