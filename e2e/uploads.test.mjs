// Browser test of uploading materials (issues 5 and 6): on a 390 × 844 phone with JavaScript
// turned off, a citizen applies for the marriage bundle (婚育一件事), whose couple's photo and
// signed declaration the platform cannot fetch: the photo goes with the form's file field, both
// materials are uploaded on the materials step (a wrong file is explained next to its input),
// and the application is submitted with them. Then the same pages are checked with axe-core.
//
// Run with `bash e2e/run.sh` (E2E_FILES=e2e/uploads.test.mjs for this file alone).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  PHONE,
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
});

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('JFIF couple photo')]);
const PDF = Buffer.from('%PDF-1.4\n% 申请结婚登记声明书\n%%EOF\n');
const PHOTO = '双方近期半身免冠合影照片（2寸）';
const DECLARATION = '《申请结婚登记声明书》';

/** The upload form of one material on the materials step. */
function materialForm(page, name) {
  return page.locator('form.upload').filter({ has: page.locator(`input[name="material"][value="${name}"]`) });
}

async function noSidewaysScroll(page, what) {
  const width = await scrollWidth(page);
  assert.ok(width <= page.viewportSize().width, `${what} scrolls sideways: ${width}px`);
}

describe('uploading materials', { timeout: 180_000 }, () => {
  test('a citizen uploads the materials of the marriage bundle without JavaScript', async () => {
    // Registration needs the SMS inbox page; the application itself runs without scripts.
    const setup = await newContext(browser, PHONE);
    await registerPerson(setup, await setup.newPage());
    const cookies = await setup.cookies();
    await setup.close();
    const context = await newContext(browser, { ...PHONE, javaScriptEnabled: false });
    await context.addCookies(cookies);
    const page = await context.newPage();

    await page.goto(url('/bundles/ZJ-MARRIAGE'));
    await press(page, '开始办理');
    assert.match(page.url(), /\/questions$/);
    for (const [name, value] of [['remarriage', 'no'], ['birth_registration', 'no'], ['move_household', 'no']]) {
      await page.locator(`input[name="${name}"][value="${value}"]`).check();
    }
    await press(page, '保存并继续');

    // The form, with the couple's photo in its file field.
    assert.match(page.url(), /\/form$/);
    await page.getByLabel('对方姓名').fill('林晓燕');
    await page.getByLabel('对方公民身份号码').fill('330102199007220264');
    await page.getByLabel('对方联系电话').fill('13900139000');
    await page.getByLabel('预约登记日期').fill('2099-01-15');
    for (const [name, value] of [['registry_office', 'xihu'], ['ceremony', 'no'], ['birth_registration', 'no'], ['move_household', 'no']]) {
      await page.locator(`input[name="${name}"][value="${value}"]`).check();
    }
    await page.locator('#f-wedding_photo').setInputFiles({ name: '合影.jpg', mimeType: 'image/jpeg', buffer: JPEG });
    await press(page, '保存并继续');
    if (!page.url().endsWith('/materials')) {
      const summary = await page.locator('#error-summary').textContent().catch(() => '');
      assert.fail(`the form was not accepted: ${summary}`);
    }

    // The materials: a wrong file is explained next to its input.
    assert.ok(await page.getByText('还有 2 份材料需要您提供').isVisible());
    await noSidewaysScroll(page, 'the materials step');
    const photo = materialForm(page, PHOTO);
    await photo.locator('input[type=file]').setInputFiles({ name: 'photo.pdf', mimeType: 'application/pdf', buffer: Buffer.from('not a photo') });
    await submit(page, () => photo.locator('button[type=submit]').click());
    assert.ok(await page.locator('#error-summary').isVisible(), 'the refused file is listed');
    const refused = materialForm(page, PHOTO);
    assert.equal(await refused.locator('input[type=file]').getAttribute('aria-invalid'), 'true');
    assert.match(await refused.locator('.error').textContent(), /不是 PDF、JPEG、PNG 或 OFD 文件/);

    for (const [name, file] of [[PHOTO, { name: '合影.jpg', mimeType: 'image/jpeg', buffer: JPEG }], [DECLARATION, { name: '声明书.pdf', mimeType: 'application/pdf', buffer: PDF }]]) {
      const form = materialForm(page, name);
      await form.locator('input[type=file]').setInputFiles(file);
      await submit(page, () => form.locator('button[type=submit]').click());
      assert.match(page.url(), /\/materials$/);
    }
    assert.ok(await page.getByText('所需材料均已提供').isVisible());
    assert.ok(await page.getByRole('link', { name: '声明书.pdf' }).isVisible());
    // The uploaded file opens for its uploader.
    const href = await page.getByRole('link', { name: '声明书.pdf' }).getAttribute('href');
    const file = await page.request.get(url(href));
    assert.equal(file.status(), 200);
    assert.equal(file.headers()['content-type'], 'application/pdf');

    // Check and submit.
    await submit(page, () => page.getByRole('link', { name: '继续' }).click());
    assert.match(page.url(), /\/check$/);
    await press(page, '提交申请');
    assert.match(page.url(), /\/me\/applications\/[^/?]+\?submitted=1$/);
    assert.ok(await page.getByRole('heading', { name: '申请已提交' }).isVisible());
    await context.close();

    // The same pages with scripts, for axe-core: the materials step with its uploads.
    const checked = await newContext(browser, PHONE);
    await checked.addCookies(cookies);
    const again = await checked.newPage();
    await again.goto(url('/bundles/ZJ-MARRIAGE'));
    await press(again, '开始办理');
    for (const [name, value] of [['remarriage', 'no'], ['birth_registration', 'no'], ['move_household', 'no']]) {
      await again.locator(`input[name="${name}"][value="${value}"]`).check();
    }
    await press(again, '保存并继续');
    await checkPage(again, { en: false, what: 'the marriage form with its file field' });
    const materials = again.url().replace(/\/form$/, '/materials');
    await again.goto(materials);
    await checkPage(again, { en: false, what: 'the materials step with upload forms' });
    await noSidewaysScroll(again, 'the materials step');
    await checked.close();
  });
});
