// Browser test of the general window (综合窗口, issue 6): a window clerk signs in on the staff
// sign-in page, finds the birth bundle, accepts a walk-in application for 陈志明 in two screens
// (identity and questionnaire; form, documents and signature) and opens the printable receipt
// with the case numbers. Every page is checked with axe-core (WCAG 2.1 A/AA), for the language
// on <html>, a plain-text title, and no horizontal scrolling at 360 px. The wall time of the
// clerk's flow, the screens and the fields typed or chosen are printed (the "under two minutes"
// goal is for a person at the window; this measures the pages, not the typing).
//
// Run with `bash e2e/run.sh` (E2E_FILES=e2e/counter.test.mjs for this file alone).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ADMIN_TOKEN, BASE, checkPage, launch, newContext, scrollWidth, submit, url } from './lib.mjs';

// 陈志明 is in the demo population registry, and the hospital reported his baby's birth.
const APPLICANT = { name: '陈志明', residentId: '330102198503140138' };
const CLERK = { username: 'e2e-clerk-xihu', name: '西湖区综合窗口', division: '330106' };

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Time spent checking pages (axe and the like), left out of the clerk's wall time. */
let checking = 0;

/** Checks a page: language, title, axe, and no sideways scrolling at 360 px. */
async function look(page, what) {
  const started = Date.now();
  await checkPage(page, { en: false, what });
  const width = await scrollWidth(page);
  assert.ok(width <= 360, `${what} scrolls sideways at 360 px: ${width}px`);
  checking += Date.now() - started;
}

/** Creates a window clerk through the API with the admin token; returns the password. */
async function createClerk(request) {
  const r = await request.post(`${BASE}/api/v1/staff`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    data: {
      username: CLERK.username,
      name: CLERK.name,
      department_code: '11330100000897962X',
      division_code: CLERK.division,
      roles: [{ role: 'window_clerk', division: CLERK.division }],
    },
  });
  assert.equal(r.status(), 201, `POST /api/v1/staff: ${await r.text()}`);
  return (await r.json()).initial_password;
}

test('a window clerk accepts a walk-in application and prints the receipt', async () => {
  const context = await newContext(browser, { viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  const password = await createClerk(context.request);

  // Sign in on the staff entrance; the workbench leads to the window.
  await page.goto(url('/staff/sign-in'));
  await look(page, 'the staff sign-in');
  await page.fill('#username', CLERK.username);
  await page.fill('#password', password);
  await submit(page, () => page.click('main button[type=submit]'));
  assert.equal(new URL(page.url()).pathname, '/staff');
  await look(page, 'the workbench');

  const started = Date.now();
  let screens = 0;
  let fields = 0;
  await submit(page, () => page.click('a[href="/counter"]'));
  screens += 1;
  await look(page, 'the window home');

  // Find the bundle.
  await page.fill('#q', '出生');
  fields += 1;
  await submit(page, () => page.click('form.search button[type=submit]'));
  await look(page, 'the window search results');
  await submit(page, () => page.click('a[href="/counter/bundles/ZJ-BIRTH/apply"]'));
  screens += 1;
  await look(page, 'walk-in screen 1');

  // Screen 1: submitting it empty shows every problem next to its field.
  await submit(page, () => page.click('main form button[type=submit]'));
  await look(page, 'walk-in screen 1 with its problems');
  assert.ok(await page.locator('#error-summary').isVisible(), 'error summary');
  assert.equal(await page.locator('#resident_id').getAttribute('aria-invalid'), 'true');

  await page.fill('#resident_id', APPLICANT.residentId);
  await page.fill('#applicant_name', APPLICANT.name);
  await page.check('#identity_checked');
  await page.check('input[name=parents_married][value=yes]');
  await page.check('input[name=medical_insurance][value=no]');
  fields += 5;
  await submit(page, () => page.click('main form button[type=submit]'));
  assert.match(new URL(page.url()).pathname, /^\/counter\/walk-ins\//);
  screens += 1;
  await look(page, 'walk-in screen 2');

  // Screen 2: the form is prefilled from the shared birth record; the clerk completes it.
  assert.equal(await page.inputValue('#f-baby_name'), '陈思远');
  await page.selectOption('#f-birth_place', '330106');
  await page.fill('#f-birth_place-detail', '浙江大学医学院附属妇产科医院');
  fields += 2;
  for (const [name, value] of [
    ['register_with', 'father'],
    ['relation_to_head', '子'],
    ['applicant_relation', 'father'],
    ['delivery_method', 'pickup'],
  ]) {
    const choice = page.locator(`input[name="${name}"][value="${value}"]`);
    if (await choice.count()) {
      await choice.check();
      fields += 1;
    }
  }
  for (const [id, value] of [
    ['#f-applicant_phone', '13957100001'],
  ]) {
    if (await page.locator(id).count()) {
      await page.fill(id, value);
      fields += 1;
    }
  }
  const boxes = page.locator('input[name=received]');
  for (let i = 0; i < (await boxes.count()); i += 1) {
    await boxes.nth(i).check();
    fields += 1;
  }
  // The applicant signs on the screen's signature pad (the script sends the drawing as a PNG).
  const pad = page.locator('#signature-pad');
  assert.ok(await pad.isVisible(), 'the signature pad (scripts on)');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + 20, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 12; i += 1) {
    await page.mouse.move(box.x + 20 + i * 20, box.y + box.height / 2 + (i % 2 ? -25 : 25));
  }
  await page.mouse.up();
  fields += 1;
  // Enter in the last field submits the application (not the form's first "add a row").
  await submit(page, () => page.press('#signature', 'Enter'));
  screens += 1;

  // The printable receipt, with the case numbers.
  const problems = (await page.locator('#error-summary').count())
    ? await page.locator('#error-summary').textContent()
    : '';
  assert.match(
    new URL(page.url()).pathname,
    /^\/counter\/applications\/[^/]+\/receipt$/,
    `not submitted: ${problems}`,
  );
  const numbers = await page.locator('tbody th[scope=row]').allTextContents();
  assert.ok(numbers.length >= 3, `case numbers on the receipt: ${numbers}`);
  for (const n of numbers) assert.match(n, /^330106-/);
  const wall = Date.now() - started - checking;
  await look(page, 'the receipt');
  assert.ok(await page.locator('.print-button').isVisible(), 'the print button (scripts on)');
  assert.equal(
    await page.evaluate(() => getComputedStyle(document.querySelector('header.site')).display),
    'block',
  );
  await page.emulateMedia({ media: 'print' });
  assert.equal(
    await page.evaluate(() => getComputedStyle(document.querySelector('header.site')).display),
    'none',
    'no navigation when printed',
  );
  await page.emulateMedia({ media: 'screen' });

  // Today's intake lists the application.
  await page.goto(url('/counter'));
  await look(page, 'the window home with the intake');
  assert.ok((await page.content()).includes(numbers[0]), "today's intake lists it");

  console.log(
    `counter journey: ${(wall / 1000).toFixed(1)} s of page time, ${screens} screens, ${fields} fields typed or chosen`,
  );
  await context.close();
});
