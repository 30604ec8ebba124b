// Browser tests of the identity pages (registration, sign-in, step-up, single sign-on consent),
// in Chinese (the default) and once more with ?lang=en. Every page is checked with axe-core
// (WCAG 2.1 A/AA), for the language on <html> and for a plain-text title.
//
// Run with `bash e2e/run.sh`, which starts the server and sets ONETRIP_E2E_URL and
// ONETRIP_E2E_ADMIN_TOKEN. The tests of one language build on each other (the account
// registered first signs in, steps up and consents), so they run in order.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN_TOKEN,
  BASE,
  checkPage,
  expectNoAxeViolations,
  focusState,
  launch,
  newContext,
  pkce,
  readSmsCode,
  scrollWidth,
  session,
  submit,
  url,
} from './lib.mjs';

const TEXT = {
  zh: {
    sendCode: '获取验证码',
    register: '注册',
    signIn: '登录',
    verify: '立即核验',
    allow: '同意并继续',
  },
  en: {
    sendCode: 'Send me a code',
    register: 'Register',
    signIn: 'Sign in',
    verify: 'Verify now',
    allow: 'Allow',
  },
};

// Both runs share one server, so each registers its own person (both are in the demo
// population registry, so both can step up to L2).
const PEOPLE = {
  zh: {
    name: '陈志明',
    residentId: '330102198503140138',
    phone: '13800138000',
    password: 'Lianhua-Qiao7#',
  },
  en: {
    name: '林晓燕',
    residentId: '330102199007220264',
    phone: '13900139000',
    password: 'Baidi-Causeway4%',
  },
};

const REDIRECT_URI = 'http://127.0.0.1:9/cb';
const CLIENT_NAME = '不动产登记系统';

let browser;
let client;

before(async () => {
  browser = await launch();
  const r = await fetch(`${BASE}/api/v1/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: CLIENT_NAME,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code'],
      scopes: ['openid', 'profile'],
    }),
  });
  const body = await r.text();
  assert.equal(r.status, 201, `register the client: ${body}`);
  client = JSON.parse(body);
  assert.ok(client.client_id, body);
});

after(async () => {
  await browser?.close();
});

for (const en of [false, true]) {
  const t = en ? TEXT.en : TEXT.zh;
  const person = en ? PEOPLE.en : PEOPLE.zh;

  describe(en ? 'English (?lang=en)' : '中文 (default)', { timeout: 120_000 }, () => {
    const contexts = [];
    const fresh = async (options) => {
      const c = await newContext(browser, options);
      contexts.push(c);
      return c;
    };
    // The browser signed in by the sign-in test, used again for step-up and consent.
    let signedIn;

    after(async () => {
      await Promise.all(contexts.map((c) => c.close()));
    });

    test('registration: an invalid submission lists the problems, linked to their fields', async () => {
      const page = await (await fresh()).newPage();
      await page.goto(url('/register', en));
      await checkPage(page, { en, what: 'the registration page' });

      await submit(page, () => page.getByRole('button', { name: t.register, exact: true }).click());
      await checkPage(page, { en, what: 'the registration page with errors' });

      const summary = page.locator('#error-summary');
      assert.ok(await summary.isVisible(), 'error summary shown');
      assert.equal(await summary.getAttribute('role'), 'alert');
      const hrefs = await summary.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      for (const field of ['name', 'resident_id', 'phone']) {
        assert.ok(hrefs.includes(`#${field}`), `summary links to #${field}: ${hrefs}`);
      }
      for (const href of hrefs) {
        const id = href.slice(1);
        const input = page.locator(`input#${id}`);
        assert.equal(await input.count(), 1, `the summary link ${href} points at a field`);
        assert.equal(await input.getAttribute('aria-invalid'), 'true', `aria-invalid on #${id}`);
        const describedBy = await input.getAttribute('aria-describedby');
        assert.equal(describedBy, `${id}-error`, `#${id} is described by its error`);
        const message = (await page.locator(`#${describedBy}`).textContent()).trim();
        assert.ok(message.length > 0, `error text next to #${id}`);
        const linkText = (await summary.locator(`a[href="${href}"]`).first().textContent()).trim();
        assert.equal(linkText, message, `summary and field say the same for #${id}`);
      }
    });

    test('registration journey: SMS code from the sandbox inbox, then signed in at L1', async () => {
      const context = await fresh();
      const page = await context.newPage();
      const next = '/?from=register';
      await page.goto(url(`/register?next=${encodeURIComponent(next)}`, en));
      await page.fill('#name', person.name);
      await page.fill('#resident_id', person.residentId);
      await page.fill('#phone', person.phone);
      await submit(page, () => page.getByRole('button', { name: t.sendCode, exact: true }).click());
      await checkPage(page, { en, what: 'the registration page after sending the code' });
      assert.ok(await page.getByRole('status').isVisible(), 'says the code was sent');
      assert.equal(await page.inputValue('#name'), person.name, 'name kept');
      assert.equal(await page.inputValue('#resident_id'), person.residentId, 'resident ID kept');
      assert.equal(await page.inputValue('#phone'), person.phone, 'phone kept');

      // The person reads the text message (the sandbox inbox) in another tab.
      const phone = await context.newPage();
      const code = await readSmsCode(phone, person.phone, en);
      await phone.close();

      await page.fill('#sms_code', code);
      await page.fill('#password', person.password);
      await submit(page, () => page.getByRole('button', { name: t.register, exact: true }).click());
      const landed = new URL(page.url());
      assert.equal(landed.origin + landed.pathname + landed.search, `${BASE}${next}`, 'landed on next');
      await expectNoAxeViolations(page, 'the page after registration');

      const s = await session(page);
      assert.equal(s.signed_in, true, JSON.stringify(s));
      assert.equal(s.assurance_level, 'L1', JSON.stringify(s));
    });

    test('sign-in: a wrong password is shown next to the field, the right one signs in', async () => {
      signedIn = await fresh();
      const page = await signedIn.newPage();
      const next = '/?from=sign-in';
      // Chinese: with the phone number; English: with the resident ID number.
      const login = en ? person.residentId : person.phone;
      await page.goto(url(`/sign-in?next=${encodeURIComponent(next)}`, en));
      await checkPage(page, { en, what: 'the sign-in page' });

      await page.fill('#login', login);
      await page.fill('#password', `${person.password}x`);
      await submit(page, () => page.getByRole('button', { name: t.signIn, exact: true }).click());
      await checkPage(page, { en, what: 'the sign-in page with a wrong password' });
      const error = page.locator('#login-error');
      assert.ok(await error.isVisible(), '#login-error shown');
      assert.ok((await error.textContent()).trim().length > 0, '#login-error has text');
      assert.equal(await page.getAttribute('#login', 'aria-invalid'), 'true');
      assert.equal(await page.getAttribute('#login', 'aria-describedby'), 'login-error');
      assert.equal(await page.locator('#error-summary a[href="#login"]').count(), 1, 'summary links to #login');
      assert.equal(await page.inputValue('#login'), login, 'login kept');
      assert.equal((await session(page)).signed_in, false, 'not signed in after a wrong password');

      await page.fill('#password', person.password);
      await submit(page, () => page.getByRole('button', { name: t.signIn, exact: true }).click());
      const landed = new URL(page.url());
      assert.equal(landed.pathname + landed.search, next, 'landed on next');
      const s = await session(page);
      assert.equal(s.signed_in, true, JSON.stringify(s));
      assert.equal(s.assurance_level, 'L1', JSON.stringify(s));
    });

    test('step-up: real-name verification against the registry raises the session to L2', async () => {
      assert.ok(signedIn, 'needs the browser signed in by the sign-in test');
      const page = await signedIn.newPage();
      await page.goto(url('/step-up?next=/', en));
      await checkPage(page, { en, what: 'the step-up page' });
      await submit(page, () => page.getByRole('button', { name: t.verify, exact: true }).click());
      assert.equal(new URL(page.url()).pathname, '/', 'back at next');
      const s = await session(page);
      assert.equal(s.signed_in, true, JSON.stringify(s));
      assert.equal(s.assurance_level, 'L2', JSON.stringify(s));
    });

    test('single sign-on: consent, then the code goes back to the department system', async () => {
      assert.ok(signedIn, 'needs the browser signed in by the sign-in test');
      const page = await signedIn.newPage();
      const { verifier, challenge } = pkce();
      assert.equal(challenge.length, 43);
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        scope: 'openid profile',
        state: 'xyz',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      await page.goto(url(`/oauth2/authorize?${query}`, en));
      assert.equal(new URL(page.url()).pathname, '/oauth2/authorize', 'consent asked at once');
      await checkPage(page, { en, what: 'the consent page' });
      assert.ok((await page.locator('h1').textContent()).includes(CLIENT_NAME), 'names the system');

      // Nothing listens on port 9 (and Chromium refuses that port anyway, which also keeps
      // page.route from seeing the redirect): the request the browser makes is the evidence.
      const callback = page.waitForRequest((r) => r.url().startsWith(`${REDIRECT_URI}?`));
      await page.getByRole('button', { name: t.allow, exact: true }).click();
      const back = new URL((await callback).url());
      assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
      assert.equal(back.searchParams.get('state'), 'xyz');
      assert.equal(back.searchParams.get('iss'), BASE, 'issuer identified (RFC 9207)');
      const code = back.searchParams.get('code');
      assert.ok(code, `a code in ${back}`);

      // The department system redeems the code with its secret and the PKCE verifier.
      const headers = { 'content-type': 'application/x-www-form-urlencoded' };
      if (client.client_secret) {
        const id = encodeURIComponent(client.client_id);
        const secret = encodeURIComponent(client.client_secret);
        headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
      }
      const r = await fetch(`${BASE}/oauth2/token`, {
        method: 'POST',
        headers,
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          code_verifier: verifier,
          ...(client.client_secret ? {} : { client_id: client.client_id }),
        }),
      });
      const tokens = await r.json();
      assert.equal(r.status, 200, JSON.stringify(tokens));
      assert.ok(tokens.id_token && tokens.access_token, JSON.stringify(tokens));
    });

    test('keyboard only: Tab to the fields, type, Enter signs in; focus is always visible', async () => {
      const page = await (await fresh()).newPage();
      const next = '/?from=keyboard';
      await page.goto(url(`/sign-in?next=${encodeURIComponent(next)}`, en));
      const focused = [];
      for (let i = 0; i < 10; i++) {
        await page.keyboard.press('Tab');
        const f = await focusState(page);
        focused.push(f);
        assert.ok(
          f.outlineStyle !== 'none' && f.outlineWidth > 0,
          `focus visible on <${f.tag} id="${f.id}"> "${f.text}": outline ${f.outlineStyle} ${f.outlineWidth}px`,
        );
        if (f.id === 'login') break;
      }
      assert.equal(focused.at(-1).id, 'login', `Tab reaches #login: ${focused.map((f) => f.tag + '#' + f.id)}`);
      await page.keyboard.type(person.phone);
      await page.keyboard.press('Tab');
      const f = await focusState(page);
      assert.equal(f.id, 'password', 'Tab goes from the login field to the password');
      assert.ok(f.outlineStyle !== 'none' && f.outlineWidth > 0, `focus visible on #password: ${f.outlineStyle}`);
      await page.keyboard.type(person.password);
      await submit(page, () => page.keyboard.press('Enter'));
      const landed = new URL(page.url());
      assert.equal(landed.pathname + landed.search, next, 'landed on next');
      assert.equal((await session(page)).signed_in, true, 'signed in with the keyboard only');
    });

    test('mobile 360×740: no horizontal scroll on the sign-in and registration pages', async () => {
      const context = await fresh({
        viewport: { width: 360, height: 740 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
      });
      const page = await context.newPage();
      for (const path of ['/sign-in', '/register']) {
        await page.goto(url(path, en));
        await checkPage(page, { en, what: `${path} on a phone` });
        const width = await scrollWidth(page);
        assert.ok(width <= 360, `${path}: scrollWidth ${width} > 360`);
      }
      // With the error summary and the messages next to the fields.
      await submit(page, () => page.getByRole('button', { name: t.register, exact: true }).click());
      assert.ok(await page.locator('#error-summary').isVisible());
      const width = await scrollWidth(page);
      assert.ok(width <= 360, `/register with errors: scrollWidth ${width} > 360`);
    });
  });
}
