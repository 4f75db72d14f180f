/**
 * Issue 9 item 8, in a real browser against a real `serve` (production environment): an operator
 * invites a vendor-admin and two authority-admins; the vendor registers a system with a pasted key
 * and requests `send` for 0751 and 0101; 0751 approves, 0101 rejects with a reason; the vendor sees
 * both; a trigger for 0751 is delivered and one for 0101 gets 1205; 0751 terminates, and the next
 * trigger for 0751 gets 1205. Every control is found by its accessible name (SPEC §11).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { cli, freePort } from './helpers/cli.js';
import { generateKeyPair } from './helpers/factories.js';
import { launchBrowser, logIn, seriousViolations, setPasswordWithLink, type TestBrowser } from './helpers/browser.js';
import { AARHUS, createWorld, KOBENHAVN, receiptOutcome, send, waitForFile, type World } from './helpers/router-world.js';
import { waitUntil } from './helpers/wait.js';

const PASSWORD = 'a long test password for the flow';

let world: World;
let browser: TestBrowser;
let base: string;
let run: (...args: string[]) => Promise<any>;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  world = await createWorld('pages_flow', 'postgres', { FILUDVEKSLING_ENV: 'production', PORTAL_PORT: String(port), PORTAL_PUBLIC_URL: base });
  run = async (...args: string[]) => {
    const r = await cli([...args, '--json'], world.env);
    if (r.code !== 0) throw new Error(`filudveksling ${args.join(' ')} → ${r.code}: ${r.stderr}`);
    return r.json();
  };
  // What an operator sets up with the CLI: the vendors, and a receiving system with its own approved fetch agreements.
  await run('vendor', 'add', 'Skolesystemer A/S');
  await run('vendor', 'add', 'Modtager ApS');
  const keyFile = join(world.dataDir, 'modtager.pub');
  writeFileSync(keyFile, generateKeyPair().publicKey);
  await run('system', 'register', 'modtager', '--vendor', 'Modtager ApS', '--ssh-key', keyFile);
  rmSync(keyFile);
  for (const authority of ['0751', '0101']) {
    const made = await run('agreement', 'request', '--system', 'modtager', '--service', 'fetch', '--authority', authority);
    await run('agreement', 'approve', String((Array.isArray(made) ? made[0] : made).id));
  }
  await world.start();
  await waitUntil('the portal', async () => (await fetch(`${base}/login`).catch(() => undefined))?.status === 200);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await world?.close();
});

/** A person at their own browser (own cookies): sets a password from the invitation link, logs in. */
async function personAt(link: string, email: string): Promise<Page> {
  const page = await browser.newPage();
  await setPasswordWithLink(page, link, PASSWORD);
  await logIn(page, base, { email, password: PASSWORD });
  return page;
}

/** A page of the main menu, by its name. */
async function menu(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Hovedmenu' }).getByRole('link', { name, exact: true }).click();
}

/** The operator invites on the Brugere page, and reads the one-time link it shows. */
async function invite(page: Page, email: string, role: string, organisation: { vendor?: string; authority?: string }): Promise<string> {
  await page.goto(`${base}/users`);
  await page.getByLabel('E-mail', { exact: true }).fill(email);
  await page.getByLabel('Rolle').selectOption({ label: role });
  if (organisation.vendor) await page.getByLabel('Leverandør').selectOption({ label: organisation.vendor });
  if (organisation.authority) await page.getByLabel('Myndighed').selectOption({ label: organisation.authority });
  await page.getByRole('button', { name: 'Send invitation' }).click();
  return (await page.locator('.link code').innerText()).trim();
}

test('vendor requests, 0751 approves, 0101 rejects, production delivers and refuses, 0751 terminates', async () => {
  // The first operator comes from the CLI (README: how to log in the first time).
  const first = await run('user', 'invite', 'drift@kombit.example.dk', '--role', 'operator');
  const operator = await personAt(first.link, 'drift@kombit.example.dk');
  const vendorLink = await invite(operator, 'admin@skolesystemer.example.dk', 'Leverandørens administrator', { vendor: 'Skolesystemer A/S' });
  const aarhusLink = await invite(operator, 'dpo@aarhus.example.dk', 'Databehandlingsansvarlig', { authority: '0751 Aarhus' });
  const kbhLink = await invite(operator, 'dpo@kk.example.dk', 'Databehandlingsansvarlig', { authority: '0101 København' });

  // The vendor registers its system with a pasted key, and asks 0751 and 0101 for the send service.
  const vendor = await personAt(vendorLink, 'admin@skolesystemer.example.dk');
  const key = generateKeyPair();
  await menu(vendor, 'It-systemer');
  await vendor.getByRole('link', { name: 'Registrér it-system' }).click();
  await vendor.getByLabel('Brugernavn (SFTP)').fill('skolesystem');
  await vendor.getByLabel('Offentlig SSH-nøgle').fill(key.publicKey);
  await vendor.getByRole('button', { name: 'Registrér', exact: true }).click();
  await vendor.getByRole('heading', { name: 'skolesystem', exact: true }).waitFor();
  const uuid = (await vendor.locator('dd code').first().innerText()).trim();

  await menu(vendor, 'Serviceaftaler');
  await vendor.getByRole('link', { name: 'Anmod om serviceaftale' }).click();
  await vendor.getByLabel('It-system').selectOption('skolesystem');
  await vendor.getByLabel('Afsendelse (send)').check();
  await vendor.getByLabel('Myndigheder').selectOption(['0751', '0101']);
  await vendor.getByRole('button', { name: 'Send anmodning' }).click();
  await vendor.getByRole('status').waitFor();

  // KOMBIT issues the InfRef and routes (CLI), now that the system exists.
  const infref = await run('infref', 'issue', '--owner', 'skolesystem');
  await run('infref', 'declaration', infref.name, '--received');
  await run('infref', 'declaration', infref.name, '--approve');
  for (const authority of ['0751', '0101']) await run('route', 'add', '--sender', 'skolesystem', '--infref', infref.name, '--recipient', 'modtager', '--authority', authority);

  // 0751's data-responsible approves; 0101's own rejects with a reason.
  const aarhus = await personAt(aarhusLink, 'dpo@aarhus.example.dk');
  await menu(aarhus, 'Serviceaftaler');
  await aarhus.getByRole('link', { name: /skolesystem, Aarhus/ }).click();
  await aarhus.getByRole('button', { name: 'Godkend' }).click();
  await aarhus.getByRole('status').waitFor();

  const kbh = await personAt(kbhLink, 'dpo@kk.example.dk');
  await menu(kbh, 'Serviceaftaler');
  // 0101 sees only its own request, never Aarhus's.
  expect(await kbh.getByRole('link', { name: /Aarhus/ }).count()).toBe(0);
  await kbh.getByRole('link', { name: /skolesystem, København/ }).click();
  await kbh.getByLabel('Begrundelse').fill('Vi bruger ikke skolesystemet');
  await kbh.getByRole('button', { name: 'Afvis' }).click();
  await kbh.getByRole('status').waitFor();

  // The vendor sees both states.
  await menu(vendor, 'Serviceaftaler');
  const rows = vendor.getByRole('row');
  await expect(rows.filter({ hasText: '0751 Aarhus' }).getByText('Godkendt').isVisible()).resolves.toBe(true);
  await expect(rows.filter({ hasText: '0101 København' }).getByText('Afvist').isVisible()).resolves.toBe(true);
  await expect(rows.filter({ hasText: '0101 København' }).getByText('Vi bruger ikke skolesystemet').isVisible()).resolves.toBe(true);
  // …and is told in the portal (SPEC §12): its notices, the rejection with the reason.
  await menu(vendor, 'Advis');
  await expect(vendor.getByRole('row').filter({ hasText: 'Serviceaftale afvist' }).getByText(/Vi bruger ikke skolesystemet/).isVisible()).resolves.toBe(true);
  expect(await seriousViolations(vendor)).toEqual([]);

  // Production: 0751 delivers, 0101 is refused (1205).
  const sender = { username: 'skolesystem', uuid };
  const toAarhus = await send(world, { sender: sender as never, infref: infref.name, authority: AARHUS.cvr });
  expect(receiptOutcome(await waitForFile(toAarhus.receiptPath, 30_000))).toBe('SUCCESS');
  const toKbh = await send(world, { sender: sender as never, infref: infref.name, authority: KOBENHAVN.cvr });
  expect(receiptOutcome(await waitForFile(toKbh.receiptPath, 30_000))).toBe('1205');

  // 0751 terminates from today; the next trigger for 0751 is refused too.
  await menu(aarhus, 'Serviceaftaler');
  await aarhus.getByRole('link', { name: /skolesystem, Aarhus/ }).click();
  await aarhus.getByLabel('Begrundelse').fill('Kontrakten er ophørt');
  await aarhus.getByRole('button', { name: 'Opsig' }).click();
  await aarhus.getByRole('status').waitFor();
  expect(await aarhus.getByText('Opsagt', { exact: true }).count()).toBeGreaterThan(0);
  const again = await send(world, { sender: sender as never, infref: infref.name, authority: AARHUS.cvr });
  expect(receiptOutcome(await waitForFile(again.receiptPath, 30_000))).toBe('1205');
}, 180_000);
