/**
 * A real browser for the portal's tests: Debian's chromium driven by playwright-core, and the
 * axe-core accessibility check. One browser per test file; one context (own cookies) per person.
 *
 *   const browser = await launchBrowser();                       // afterAll: browser.close()
 *   const page = await browser.newPage();                        // a fresh context
 *   await logIn(page, portal.baseUrl, person);                   // through the login form, by accessible names
 *   expect(await seriousViolations(page)).toEqual([]);           // axe-core: no serious/critical violations
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  /** A page in a new context: its own cookies and storage, Danish by default like a Danish desktop. */
  newPage(o?: { locale?: string }): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Headless chromium without the sandbox (containers run as root), GPU or background traffic.
 * Playwright gives every launch a fresh temporary user-data-dir and removes it at close.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    browser,
    async newPage(o = {}) {
      const context = await browser.newContext({ locale: o.locale ?? 'da-DK' });
      return context.newPage();
    },
    close: () => browser.close(),
  };
}

/** Logs in through the form, finding its fields by their accessible names (Danish or English). */
export async function logIn(page: Page, baseUrl: string, person: { email: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel(/^(E-mail|Email)$/).fill(person.email);
  await page.getByLabel(/^(Adgangskode|Password)$/).fill(person.password);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.getByRole('button', { name: /^(Log ind|Log in)$/ }).click()]);
}

/** Opens an invitation or reset link and sets the password through its form. */
export async function setPasswordWithLink(page: Page, link: string, password: string): Promise<void> {
  await page.goto(link);
  await page.getByLabel(/^(Ny adgangskode|New password)$/).fill(password);
  await page.getByLabel(/^(Gentag adgangskoden|Repeat the password)$/).fill(password);
  await Promise.all([page.waitForURL(/\/login/), page.getByRole('button', { name: /^(Gem adgangskode|Save password)$/ }).click()]);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core on the page as it is now and returns its serious and critical violations (empty
 * when the page passes). axe is evaluated through the DevTools protocol, which the page's CSP
 * (`default-src 'self'`) does not govern, so the portal's CSP stays as in production.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
