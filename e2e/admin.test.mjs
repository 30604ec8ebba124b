// Browser journey of the administrator pages (issue 6): a catalog administrator created with
// the admin token signs in, enrols an authenticator (codes computed here, RFC 6238), signs in
// again with a code, adds a situation to an item in the catalog editor (first with a material
// that does not exist, shown next to the field), saves, and finds the new situation in the
// public guide. Every page is checked with axe-core, for its language and title, and for no
// sideways scrolling at 360 px.
//
// Run with `bash e2e/run.sh`, which starts a fresh `onetrip demo` for each test file.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { ADMIN_TOKEN, BASE, checkPage, launch, newContext, scrollWidth, submit, url } from './lib.mjs';

/** 购买自住住房提取住房公积金: materials M01–M13 and several situations. */
const ITEM = '123301000597435545200050001001';
const ADMIN = { username: 'e2e.catalog', name: '目录管理员' };
const SITUATION = { code: 'S90', name: '购买共有产权保障住房' };
const STEP_SECS = 30;

/** Decodes RFC 4648 base32 (no padding). */
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const i = alphabet.indexOf(c);
    assert.ok(i >= 0, `not base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code (HMAC-SHA1, 6 digits) of `secret` at time step `step`. */
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const binary = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

const currentStep = () => Math.floor(Date.now() / 1000 / STEP_SECS);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Language, title, axe, and no sideways scrolling. */
async function look(page, what) {
  await checkPage(page, { en: false, what });
  const width = await scrollWidth(page);
  assert.ok(width <= page.viewportSize().width, `${what} scrolls sideways: ${width}px`);
}

/** Creates a member of staff with the admin token: their initial password. */
async function createStaff(username, roles, division = '330100', department = '11330100000897962X') {
  const r = await fetch(`${BASE}/api/v1/staff`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      username,
      name: ADMIN.name,
      department_code: department,
      division_code: division,
      roles: roles.map((role) => ({ role, division })),
    }),
  });
  const created = await r.json();
  assert.equal(r.status, 201, `create ${username}: ${JSON.stringify(created)}`);
  return created.initial_password;
}

/**
 * Signs in without a code, enrols an authenticator on /staff/authenticator, signs out and in
 * again with a code, landing on `next`.
 */
async function enrolAndSignIn(page, username, password, next) {
  await page.goto(url('/staff/sign-in'));
  await look(page, 'the staff sign-in');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await submit(page, () => page.click('form[action="/staff/sign-in"] button[type=submit]'));
  assert.equal(new URL(page.url()).pathname, '/staff');
  await look(page, 'the workbench without an authenticator');
  await submit(page, () => page.click('a[href="/staff/authenticator"]'));
  await look(page, 'the authenticator enrolment');
  const secret = await page.inputValue('input[name=secret]');
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.ok((await page.textContent('#totp-secret')).includes(secret.slice(0, 4)));
  const enrolStep = currentStep();
  await page.fill('#code', totp(secret, enrolStep));
  await submit(page, () => page.click('form[action="/staff/authenticator"] button[type=submit]'));
  await look(page, 'the authenticator enrolled');
  assert.ok(await page.isVisible('.success'));

  // Sign out and in again, now with a code: a step after the one the enrolment spent.
  await submit(page, () => page.click('main form[action="/sign-out"] button'));
  await page.goto(url(`/staff/sign-in?next=${encodeURIComponent(next)}`));
  await page.fill('#username', username);
  await page.fill('#password', password);
  await submit(page, () => page.click('form[action="/staff/sign-in"] button[type=submit]'));
  await look(page, 'the sign-in asking for the code');
  assert.ok(await page.isVisible('#totp'));
  await page.fill('#password', password);
  await page.fill('#totp', totp(secret, Math.max(enrolStep + 1, currentStep())));
  await submit(page, () => page.click('form[action="/staff/sign-in"] button[type=submit]'));
  assert.equal(new URL(page.url()).pathname, next, await page.content());
}

test('a catalog administrator enrols an authenticator and adds a situation to an item', async () => {
  const password = await createStaff(ADMIN.username, ['catalog_administrator']);
  const context = await newContext(browser, { viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  await enrolAndSignIn(page, ADMIN.username, password, '/admin/catalog');
  await look(page, 'the catalog list');

  // Find the item and open its editor.
  await page.fill('#q', '公积金');
  await submit(page, () => page.click('form[action="/admin/catalog"] button[type=submit]'));
  await look(page, 'the catalog search');
  await submit(page, () => page.click(`a[href="/admin/catalog/items/${ITEM}"]`));
  await look(page, 'the item editor');
  const n = (await page.locator('input[name^="situations["][name$="].code"]').count()) - 1;
  const field = (f) => `#situations-${n}-${f}`;
  await page.fill(field('code'), SITUATION.code);
  await page.fill(field('name'), SITUATION.name);
  await page.fill(field('conditions'), '购买本市共有产权保障住房\n已签订购房合同');
  await page.fill(field('materials'), 'M01, M99');
  await page.fill(field('guide'), '凭购房合同和付款凭证提取住房公积金。');
  await submit(page, () => page.click('form.admin-editor button[type=submit]'));

  // The material that does not exist is shown next to the field, with everything typed kept.
  await look(page, 'the item editor with a problem');
  assert.ok(await page.isVisible(`${field('materials')}-error`));
  assert.equal(await page.getAttribute(field('materials'), 'aria-invalid'), 'true');
  assert.equal(await page.inputValue(field('name')), SITUATION.name);
  assert.ok(await page.isVisible(`#error-summary a[href="${field('materials')}"]`));
  await page.fill(field('materials'), 'M01, M02, M06');
  await submit(page, () => page.click('form.admin-editor button[type=submit]'));
  assert.match(page.url(), /\?saved=\d+$/);
  await look(page, 'the item editor after saving');
  assert.ok(await page.isVisible('.success'));
  const version = new URL(page.url()).searchParams.get('saved');
  assert.ok(await page.isVisible(`a[href="/api/v1/items/${ITEM}/versions/${version}"]`));

  // The public guide offers the new situation.
  await page.goto(url(`/items/${ITEM}`));
  await look(page, 'the public guide');
  const options = await page.locator('#situation option').allTextContents();
  assert.ok(options.includes(SITUATION.name), `situations in the guide: ${options}`);
  await context.close();
});

test('the other administrator consoles pass axe and fit a 360 px screen', async () => {
  const username = 'e2e.system';
  const password = await createStaff(
    username,
    ['catalog_administrator', 'data_administrator', 'system_administrator'],
    '330000',
    '11330000045628651N',
  );
  const context = await newContext(browser, { viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  await enrolAndSignIn(page, username, password, '/admin/staff');
  await look(page, 'the staff console');
  await submit(page, () => page.click(`table a:text-is("${ADMIN.username}")`));
  await look(page, 'a member of staff');
  assert.ok(await page.isVisible('form[action$="/roles"]'));
  for (const [path, what] of [
    ['/admin/certificates', 'certificate types and seals'],
    ['/admin/data', 'data sharing'],
    ['/admin/bundles', 'the bundles'],
    ['/admin/bundles/ZJ-BIRTH', 'the bundle editor'],
  ]) {
    await page.goto(url(path));
    await look(page, what);
  }
  // The bundle editor: a question added through its folded group; a condition it cannot read
  // is explained next to the input, then fixed and saved.
  const q = (await page.locator('input[name^="questionnaire["][name$="].key"]').count()) - 1;
  const input = (f) => `#questionnaire-${q}-${f}`;
  await page.click('details:has(legend:text-is("添加问题")) > summary');
  await page.fill(input('key'), 'twins');
  await page.fill(input('text'), '是否为多胞胎？');
  await page.fill(input('options'), 'yes | 是 | Yes\nno | 否 | No');
  await page.fill(input('visible_when'), 'twins = ');
  await submit(page, () => page.click('form.admin-editor > button[type=submit]'));
  await look(page, 'the bundle editor with a problem');
  assert.ok(await page.isVisible(`${input('visible_when')}-error`));
  assert.ok(await page.isVisible(`#error-summary a[href="${input('visible_when')}"]`));
  assert.equal(await page.inputValue(input('text')), '是否为多胞胎？');
  await page.fill(input('visible_when'), '');
  await submit(page, () => page.click('form.admin-editor > button[type=submit]'));
  assert.match(page.url(), /\?saved=\d+$/, await page.content());
  await look(page, 'the bundle editor after saving');
  assert.equal(await page.inputValue(input('key')), 'twins');
  // The calendar: a year's file chosen fills the form (a progressive enhancement), and imports.
  await page.goto(url('/admin/calendar'));
  await look(page, 'the calendar import');
  const schedule = readFileSync(new URL('../data/calendar/2026.json', import.meta.url));
  await page.setInputFiles('#document-file', {
    name: '2026.json',
    mimeType: 'application/json',
    buffer: schedule,
  });
  await page.waitForFunction(() => document.getElementById('document').value.includes('"year"'));
  await page.fill('#year', '2026');
  await submit(page, () => page.click('form[action="/admin/calendar"] button[type=submit]'));
  assert.equal(new URL(page.url()).search, '?imported=2026');
  await look(page, 'the calendar imported');

  // In English, and in elder mode.
  await page.goto(url('/admin/staff', true));
  await checkPage(page, { en: true, what: 'the staff console in English' });
  // The language chosen persists: back to Chinese.
  await page.goto(url(`/admin/catalog/items/${ITEM}?elder=1&lang=zh`));
  await look(page, 'the item editor in elder mode');
  await context.close();
});
