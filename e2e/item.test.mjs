// Browser test of applying for one item alone (issue 5): on a 390 × 844 phone, a citizen opens
// the guide of 医疗费用手工（零星）报销, an item in no bundle with a form of its own, starts it
// online, finds the form prefilled from the account and the e-receipt, fixes the field left
// empty (shown next to it), uploads the three materials the platform cannot fetch, and submits
// once. Every page on the way is checked with axe-core.
//
// Run with `bash e2e/run.sh` (E2E_FILES=e2e/item.test.mjs for this file alone).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { PHONE, checkPage, launch, newContext, press, registerPerson, submit, url } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const ITEM = '11330100067843715T050090003000';
const pdf = (text) => Buffer.from(`%PDF-1.4\n% ${text}\n%%EOF\n`);

describe('one item alone', { timeout: 180_000 }, () => {
  test('a citizen applies for a medical reimbursement with its own form', async () => {
    const context = await newContext(browser, PHONE);
    const page = await context.newPage();
    await registerPerson(context, page);

    await page.goto(url(`/items/${ITEM}`));
    await checkPage(page, { en: false, what: 'the item guide' });
    await press(page, '在线办理');
    assert.match(page.url(), /\/form$/);
    await checkPage(page, { en: false, what: "the item's own form" });
    assert.equal(await page.getByLabel('就诊医疗机构').inputValue(), '浙江大学医学院附属第一医院');

    // A required field left empty is shown next to it, linked from the summary.
    for (const [name, value] of [['visit_kind', 'emergency'], ['inpatient', 'outpatient'], ['bank', 'icbc']]) {
      await page.locator(`input[name="${name}"][value="${value}"]`).check();
    }
    await press(page, '保存并继续');
    assert.ok(await page.locator('#error-summary').isVisible(), 'the missing card number is listed');
    assert.equal(await page.locator('#f-account_number').getAttribute('aria-invalid'), 'true');
    await checkPage(page, { en: false, what: 'the form with its problem' });
    await page.locator('#f-account_number').fill('6222021202041234567');
    await press(page, '保存并继续');
    assert.match(page.url(), /\/materials$/);

    // The three materials to upload, one form each.
    assert.ok(await page.getByText('还有 3 份材料需要您提供').isVisible());
    await checkPage(page, { en: false, what: 'the materials step' });
    for (const name of ['费用明细清单', '出院记录或门诊病历', '本人银行借记卡']) {
      const form = page
        .locator('form.upload')
        .filter({ has: page.locator(`input[name="material"][value="${name}"]`) });
      await form.locator('input[type=file]').setInputFiles({ name: `${name}.pdf`, mimeType: 'application/pdf', buffer: pdf(name) });
      await submit(page, () => form.locator('button[type=submit]').click());
      assert.match(page.url(), /\/materials$/);
    }
    assert.ok(await page.getByText('所需材料均已提供').isVisible());

    // Check, then submit once.
    await submit(page, () => page.getByRole('link', { name: '继续' }).click());
    assert.match(page.url(), /\/check$/);
    await checkPage(page, { en: false, what: 'the check page' });
    assert.ok(await page.getByText('6222021202041234567').isVisible());
    await press(page, '提交申请');
    assert.match(page.url(), /\/me\/applications\/[^/?]+\?submitted=1$/);
    assert.ok(await page.getByRole('heading', { name: '申请已提交' }).isVisible());
    await checkPage(page, { en: false, what: 'the confirmation' });
    await context.close();
  });
});
