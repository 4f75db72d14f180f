import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createVendor } from './helpers/factories.js';
import { launchBrowser, logIn, seriousViolations, setPasswordWithLink, type TestBrowser } from './helpers/browser.js';
import { addPerson, startPortal, type TestPortal } from './helpers/portal.js';

let portal: TestPortal;
let browser: TestBrowser;

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await portal?.close();
});

describe('the portal in a browser', () => {
  it('logs in, switches to English and back (kept per person), and every page passes axe-core', async () => {
    const op = await addPerson(portal.pool, { role: 'operator', name: 'Olga Operatør' });
    const page = await browser.newPage();
    // Everything a page loads by itself answers (stylesheets, the tab's icon): only the page asked
    // for below as missing may be a 404.
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/no-such-page')) failed.push(`${r.status()} ${r.url()}`);
    });
    // The browser's own requests (the icon) are not the page's: chromium reports their failures on the console.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.location().url.endsWith('/no-such-page')) failed.push(`${m.text()} ${m.location().url}`);
    });

    await page.goto(`${portal.baseUrl}/users`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.getAttribute('html', 'lang')).toBe('da');
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByLabel('E-mail').fill(op.email);
    await page.getByLabel('Adgangskode').fill(op.password);
    await Promise.all([page.waitForURL(/\/users$/), page.getByRole('button', { name: 'Log ind' }).click()]);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Brugere');
    expect(await page.getByRole('navigation').getByRole('link', { name: 'Brugere' }).getAttribute('aria-current')).toBe('page');
    expect(await seriousViolations(page)).toEqual([]);

    await Promise.all([page.waitForURL(/\/users$/), page.getByRole('button', { name: 'English' }).click()]);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Users');
    expect(await seriousViolations(page)).toEqual([]);

    // Kept for the person: a new browser logging in gets English.
    const other = await browser.newPage();
    await logIn(other, portal.baseUrl, op);
    expect(await other.getAttribute('html', 'lang')).toBe('en');
    expect(await other.getByRole('heading', { level: 1 }).textContent()).toBe('Welcome, Olga Operatør');
    expect(await seriousViolations(other)).toEqual([]);

    await page.goto(`${portal.baseUrl}/no-such-page`);
    expect(await page.getByRole('alert').textContent()).toBe('The page does not exist.');
    expect(await seriousViolations(page)).toEqual([]);
    await page.goto(`${portal.baseUrl}/users`);
    await Promise.all([page.waitForURL(/\/users$/), page.getByRole('button', { name: 'Dansk' }).click()]);
    expect(await page.getAttribute('html', 'lang')).toBe('da');
    await Promise.all([page.waitForURL(/\/login/), page.getByRole('button', { name: 'Log ud' }).click()]);
    expect(await page.getByRole('status').textContent()).toBe('Du er logget ud.');
    expect(failed).toEqual([]);
  });

  it('an operator invites a vendor admin, who sets a password from the link and logs in', async () => {
    const vendor = await createVendor(portal.pool, 'Leverandør "Ø" <b>');
    const op = await addPerson(portal.pool, { role: 'operator' });
    const page = await browser.newPage();
    await logIn(page, portal.baseUrl, op);
    await page.goto(`${portal.baseUrl}/users`);
    await page.getByLabel('E-mail', { exact: true }).fill('vera@leverandor.dk');
    await page.getByLabel('Navn').fill('Vera <script>alert(1)</script>');
    await page.getByLabel('Rolle').selectOption('vendor-admin');
    await page.getByLabel('Leverandør').selectOption({ label: 'Leverandør "Ø" <b>' });
    await page.getByRole('button', { name: 'Send invitation' }).click();
    const link = (await page.locator('.link code').textContent())!;
    expect(link).toMatch(new RegExp(`^${portal.baseUrl}/invitation/`));
    expect(await page.getByRole('cell', { name: 'Vera <script>alert(1)</script>' }).count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);

    const vera = await browser.newPage();
    const said: string[] = [];
    vera.on('console', (m) => said.push(m.text()));
    await vera.goto(link);
    expect(await seriousViolations(vera)).toEqual([]);
    // A password manager saves the new password under the account's e-mail: chromium finds the
    // form's user name (else it says "Password forms should have (optionally hidden) username fields").
    expect(said.filter((text) => /username field/i.test(text))).toEqual([]);
    expect(await vera.locator('input[autocomplete="username"]').inputValue()).toBe('vera@leverandor.dk');
    await setPasswordWithLink(vera, link, 'veras own long password');
    await logIn(vera, portal.baseUrl, { email: 'vera@leverandor.dk', password: 'veras own long password' });
    expect(await vera.getByRole('heading', { level: 1 }).textContent()).toBe('Velkommen, Vera <script>alert(1)</script>');
    const nav = vera.getByRole('navigation');
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Forside', 'It-systemer', 'Serviceaftaler', 'InfRefs', 'Overførsler', 'Forbrug', 'Advis', 'Brugere']);
    expect(vendor.name).toBe('Leverandør "Ø" <b>');
  });

  it('the "forgot password" page (offered with mail) passes axe-core, before and after sending', async () => {
    const mailing = await startPortal({ db: portal.db, env: { SMTP_URL: 'smtp://127.0.0.1:1' } });
    try {
      const page = await browser.newPage();
      await page.goto(`${mailing.baseUrl}/login`);
      await Promise.all([page.waitForURL(/\/forgot$/), page.getByRole('link', { name: 'Glemt adgangskode?' }).click()]);
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByLabel('E-mail').fill('someone@example.dk');
      await Promise.all([page.waitForURL(/\/forgot$/), page.getByRole('button', { name: 'Send link' }).click()]);
      expect(await page.getByRole('status').textContent()).toContain('Hvis adressen har en konto');
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await mailing.close();
    }
  });
});
