// Lighthouse (mobile profile: emulated phone, simulated slow 4G and a 4× slower CPU) on the
// citizen pages: home, search, item guide, bundle guide, and the application pages of a signed-in
// person with a verified real name (task list, questionnaire, form, materials, check, my
// applications). Prints a Markdown table of the performance and accessibility scores, and writes
// every report's JSON to $LH_OUT (default: a temporary directory).
//
// Playwright signs the person in (register, SMS code from the sandbox inbox, real-name check) in
// a persistent browser profile; Lighthouse then drives the same browser over its debugging port,
// so it sees the session cookie like the person's own browser would.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lighthouse from 'lighthouse';
import { chromium } from 'playwright-core';

const BASE = (process.env.ONETRIP_URL ?? '').replace(/\/$/, '');
assert.ok(BASE, 'ONETRIP_URL must be set (bench/lighthouse.sh sets it)');
const PORT = Number(process.env.LH_PORT ?? 9333);
const OUT = process.env.LH_OUT || mkdtempSync(join(tmpdir(), 'onetrip-lh-'));
mkdirSync(OUT, { recursive: true });

const PERSON = { name: '陈志明', residentId: '330102198503140138', phone: '13800138000', password: 'Lianhua-Qiao7#' };

const profile = mkdtempSync(join(tmpdir(), 'onetrip-lh-profile-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  locale: 'zh-CN',
  args: [`--remote-debugging-port=${PORT}`, '--disable-dev-shm-usage', '--no-sandbox', '--disable-background-networking'],
});
const page = await context.newPage();

async function press(name) {
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name, exact: true }).click()]);
}

// Register and verify the real name, then start a birth-bundle application and answer the
// questionnaire, so that every step of the application has something to show.
await page.goto(`${BASE}/register?next=/`);
await page.fill('#name', PERSON.name);
await page.fill('#resident_id', PERSON.residentId);
await page.fill('#phone', PERSON.phone);
await press('获取验证码');
const inbox = await context.newPage();
await inbox.goto(`${BASE}/dev/sms?phone=${PERSON.phone}`);
const code = /(?<!\d)(\d{6})(?!\d)/.exec(await inbox.locator('td.sms-body').first().textContent())[1];
await inbox.close();
await page.fill('#sms_code', code);
await page.fill('#password', PERSON.password);
await press('注册');
await page.goto(`${BASE}/step-up?next=/`);
await press('立即核验');
await page.goto(`${BASE}/bundles/ZJ-BIRTH`);
await press('开始办理');
const application = page.url().replace(/\/questions$/, '').replace(BASE, '');
await page.getByRole('group', { name: '新生儿父母是否已办理结婚登记？' }).getByLabel('是').check();
await page.getByRole('group', { name: '是否同时为新生儿参加城乡居民基本医疗保险？' }).getByLabel('否').check();
await press('保存并继续');
await page.goto(`${BASE}/search?q=${encodeURIComponent('公积金')}`);
const itemHref = await page.locator('a[href^="/items/"]').first().getAttribute('href');
await page.close();

const pages = [
  ['home', '/'],
  ['search', `/search?q=${encodeURIComponent('公积金')}`],
  ['item guide', itemHref],
  ['bundle guide', '/bundles/ZJ-BIRTH'],
  ['application: task list', application],
  ['application: questionnaire', `${application}/questions`],
  ['application: form', `${application}/form`],
  ['application: materials', `${application}/materials`],
  ['application: check', `${application}/check`],
  ['my applications', '/me/applications'],
  ['home, elder mode', '/?elder=1'],
];

const rows = [];
for (const [what, path] of pages) {
  const result = await lighthouse(`${BASE}${path}`, {
    port: PORT,
    output: 'json',
    logLevel: 'error',
    onlyCategories: ['performance', 'accessibility'],
  });
  const lhr = result.lhr;
  assert.ok(!lhr.runtimeError, `${what}: ${lhr.runtimeError?.message}`);
  const score = (c) => Math.round((lhr.categories[c].score ?? 0) * 100);
  const ms = (a) => Math.round(lhr.audits[a]?.numericValue ?? NaN);
  rows.push([what, path, score('performance'), score('accessibility'), ms('first-contentful-paint'), ms('largest-contentful-paint'), lhr.audits['total-byte-weight']?.numericValue]);
  writeFileSync(join(OUT, `${what.replace(/[^a-z0-9]+/gi, '-')}.json`), result.report);
  console.error(`${what}: performance ${score('performance')}, accessibility ${score('accessibility')}`);
  const failed = Object.values(lhr.audits).filter((a) => a.score !== null && a.score < 1 && lhr.categories.accessibility.auditRefs.some((r) => r.id === a.id && r.weight > 0));
  for (const a of failed) console.error(`    accessibility audit not passed: ${a.id}: ${a.title}`);
}
await context.close();

console.log('| page | performance | accessibility | FCP ms | LCP ms | bytes transferred |');
console.log('|---|---|---|---|---|---|');
for (const [what, , perf, a11y, fcp, lcp, bytes] of rows) console.log(`| ${what} | ${perf} | ${a11y} | ${fcp} | ${lcp} | ${bytes} |`);
console.log(`\nreports: ${OUT}`);
const low = rows.filter(([, , perf, a11y]) => perf < 95 || a11y < 95);
if (low.length) {
  console.log(`below 95: ${low.map((r) => r[0]).join(', ')}`);
  process.exitCode = 1;
}
