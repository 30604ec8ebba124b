// Browser test of the department officer pages (issue 6): a citizen applies for the birth
// bundle on the pages; an officer of the city health commission signs in on the staff page,
// opens the queue, accepts the birth certificate case and requests a correction; the citizen
// answers it on their application page, with a file; a second officer of the department (intake and
// handling are separate, 收受分离) completes the review and approves. Every page is checked
// with axe-core (WCAG 2.1 A/AA); the queue and case pages must not scroll sideways at 360 px.
//
// Run with `bash e2e/run.sh` (E2E_FILES=e2e/officer.test.mjs for this file alone).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN_TOKEN,
  BASE,
  PHONE,
  applyForBirth,
  checkPage,
  launch,
  newContext,
  press,
  registerPerson,
  scrollWidth,
  url,
} from './lib.mjs';

/** The city health commission: it issues the birth medical certificate. */
const HEALTH_CITY = '11330100000897962X';
/** The narrowest phone the pages must fit. */
const NARROW = { viewport: { width: 360, height: 780 }, isMobile: true, hasTouch: true };

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Creates a member of staff of the health commission with the admin token; their password. */
async function createOfficer(username, role) {
  const r = await fetch(`${BASE}/api/v1/staff`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      username,
      name: role === 'department_head' ? '王科长' : '李经办',
      department_code: HEALTH_CITY,
      division_code: '330100',
      roles: [{ role, division: '330100', department: HEALTH_CITY }],
    }),
  });
  const body = await r.text();
  assert.equal(r.status, 201, `POST /api/v1/staff: ${body}`);
  return JSON.parse(body).initial_password;
}

/** Checks a staff page: language, title, axe, and no sideways scrolling at its width. */
async function look(page, what) {
  await checkPage(page, { en: false, what });
  const width = await scrollWidth(page);
  assert.ok(width <= page.viewportSize().width, `${what} scrolls sideways: ${width}px`);
}

/** Signs a member of staff in on the staff sign-in page, coming back to `next`. */
async function signIn(page, username, password, next) {
  await page.goto(url(`/staff/sign-in?next=${encodeURIComponent(next)}`));
  await look(page, 'the staff sign-in page');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await press(page, '登录');
  assert.equal(new URL(page.url()).pathname, new URL(next, BASE).pathname);
}

describe('department officer', { timeout: 240_000 }, () => {
  test('an officer requests a correction, the citizen answers it, and the case is approved', async () => {
    // The citizen applies (as in the portal journey).
    const citizen = await newContext(browser, PHONE);
    const person = await citizen.newPage();
    await registerPerson(citizen, person);
    const { numbers, confirmation } = await applyForBirth(person, (p, what) =>
      checkPage(p, { en: false, what }),
    );
    const applicationPage = confirmation.replace(/\?submitted=1$/, '');

    const intakePassword = await createOfficer('li.intake', 'department_officer');
    const headPassword = await createOfficer('wang.head', 'department_head');

    // The officer opens the queue on a narrow phone: what is due today at the top.
    const officer = await newContext(browser, NARROW);
    const page = await officer.newPage();
    await signIn(page, 'li.intake', intakePassword, '/work/queue');
    await look(page, 'the queue');
    assert.ok(await page.getByRole('heading', { name: /今日概况/ }).isVisible());
    assert.ok(await page.getByText('件今日到期').isVisible());
    const links = await page.locator('table.queue th[scope=row] a').allTextContents();
    const number = numbers.find((n) => links.includes(n));
    assert.ok(number, `one of ${numbers} in the queue: ${links}`);
    // The warning in words next to its colour.
    assert.ok(await page.locator('table.queue .tag').first().textContent());

    // The case: accept, then ask for a correction.
    await page.getByRole('link', { name: number, exact: true }).click();
    await page.waitForLoadState('load');
    assert.match(page.url(), new RegExp(`/work/cases/${number}$`));
    await look(page, 'the case page');
    assert.ok(await page.getByText('330102********0138').first().isVisible(), 'the masked identifier');
    await press(page, '受理该办件');
    await look(page, 'the case page after intake');
    assert.ok(await page.getByRole('status').isVisible(), 'the confirmation');
    // Asking for nothing is refused next to the fields.
    await press(page, '发出补正告知');
    await look(page, 'the case page with a problem');
    assert.ok(await page.locator('#error-summary').isVisible());
    await page.locator('#correction_subject_1').selectOption({ index: 1 });
    await page.fill('#correction_reason_1', '请核对新生儿的出生时间');
    await press(page, '发出补正告知');
    await look(page, 'the case page after the correction request');
    assert.ok(await page.getByText('补正告知已发出').isVisible());

    // The citizen answers it on their application page.
    await person.goto(applicationPage);
    await checkPage(person, { en: false, what: 'the application with a correction request' });
    await person.getByLabel('补正说明').fill('出生时间无误，已核对');
    // A file for the point asked for, sent with the answer (no script needed).
    await person.locator('form.notice input[type=file]').first().setInputFiles({
      name: '出生证明.png',
      mimeType: 'image/png',
      buffer: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
    });
    await press(person, '提交补正');
    await checkPage(person, { en: false, what: 'the application after the correction' });
    assert.equal(await person.locator('form.notice').count(), 0, 'the correction is answered');

    // The officer who accepted may neither review nor decide; the head does.
    await page.reload();
    await look(page, 'the case page for the acceptor');
    assert.ok(await page.getByRole('link', { name: /出生证明\.png/ }).isVisible(), 'the correction\'s file');
    assert.ok(await page.getByText('收受分离').isVisible());
    assert.equal(await page.locator('#action-decide').count(), 0);

    const head = await newContext(browser, NARROW);
    const headPage = await head.newPage();
    await signIn(headPage, 'wang.head', headPassword, `/work/cases/${number}`);
    await look(headPage, 'the case page for the reviewer');
    await headPage.fill('#step_opinion', '材料齐全，出生时间已核对，同意');
    await press(headPage, '提交审查意见');
    await look(headPage, 'the case page after the review');
    await headPage.getByLabel('准予').check();
    await press(headPage, '作出决定');
    await look(headPage, 'the case page after the decision');
    assert.ok(await headPage.getByText('决定已作出').isVisible());
    assert.ok(await headPage.locator('#action-issue_result').isVisible(), 'the result comes next');

    // The citizen sees the approval in the timeline.
    await person.goto(applicationPage);
    await checkPage(person, { en: false, what: 'the application after the decision' });
    assert.ok(await person.getByText('准予').first().isVisible());

    // The queue in English.
    await page.goto(url('/work/queue', true));
    await checkPage(page, { en: true, what: 'the queue in English' });
    assert.ok(await page.getByRole('heading', { name: 'Case queue' }).isVisible());

    await citizen.close();
    await officer.close();
    await head.close();
  });
});
