/**
 * Small factories for arranging tests without the CLI: they call the same domain functions the
 * CLI calls (so rows, audit entries and home folders are exactly what an operator would make).
 * Every function takes the test database's pool; call `migrated(pool)` once first.
 *
 *   const pool = db.pool; await migrated(pool);
 *   const a = await registerSystem(pool, { username: 'afsender-a', dataDir });
 *   const b = await registerSystem(pool, { username: 'modtager-b', dataDir });
 *   const infref = await issueInfRef(pool, a.username, { approve: true });   // FagsystemdefineredeDataRefGDPR<n>_1
 *   await addRoute(pool, { sender: a.username, infref: infref.name, recipient: b.username, authority: '0751' });
 *   // a.privateKey logs in over SFTP as 'afsender-a'
 */
import ssh2 from 'ssh2';
import { decideAgreement, requestAgreement } from '../../src/agreements/agreements.js';
import { addAuthority } from '../../src/authority/add-authority.js';
import type { Pool } from '../../src/db/pool.js';
import { migrate } from '../../src/db/migrate.js';
import { decideDeclaration, receiveDeclaration } from '../../src/infref/declaration.js';
import { issueInfRef as issue } from '../../src/infref/issue-infref.js';
import { newInfRefVersion } from '../../src/infref/new-version.js';
import { revokeInfRef as revoke } from '../../src/infref/revoke-infref.js';
import { addRoute as add, type AddRouteInput } from '../../src/routes/add-route.js';
import type { RouteRow } from '../../src/routes/find-routes.js';
import { setSystemEnabled } from '../../src/systems/set-system-enabled.js';
import type { SystemRow } from '../../src/systems/find-system.js';
import { registerSystem as register } from '../../src/systems/register-system.js';
import { parsePublicKey, type SshPublicKey } from '../../src/systems/ssh-public-key.js';
import { addSystemKey } from '../../src/systems/system-keys.js';
import { addVendor } from '../../src/vendors/add-vendor.js';
import { findVendor } from '../../src/vendors/find-vendor.js';

const BY = 'factory';

/** Applies the migrations (idempotent). */
export async function migrated(pool: Pool): Promise<Pool> {
  await migrate(pool);
  return pool;
}

/** A vendor of that name (made if missing). */
export async function createVendor(pool: Pool, name = 'Test Vendor', cvr?: string): Promise<{ id: number; name: string }> {
  const existing = await findVendor(pool, name);
  if (existing) return existing;
  return addVendor(pool, { name, cvr }, BY);
}

export interface KeyPair {
  /** OpenSSH private key text: give it to ssh2's Client as privateKey, or write it to a file for `sftp -i` (mode 0600). */
  privateKey: string;
  /** The `.pub` line. */
  publicKey: string;
  key: SshPublicKey;
}

/** A fresh key pair (ed25519 by default; 'rsa' is 2048 bits). */
export function generateKeyPair(type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519', comment = 'test'): KeyPair {
  // ssh2's generator drops a leading zero byte of an ed25519 public key (about 1 key in 250), which
  // its own parser then refuses as it should (OpenSSH's keys are always 32 bytes): draw again.
  for (let attempt = 0; ; attempt++) {
    const pair =
      type === 'rsa'
        ? ssh2.utils.generateKeyPairSync('rsa', { bits: 2048, comment })
        : type === 'ecdsa'
          ? ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256, comment })
          : ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (attempt < 20 && ssh2.utils.parseKey(pair.private) instanceof Error) continue;
    return { privateKey: pair.private, publicKey: pair.public, key: parsePublicKey(pair.public) };
  }
}

export interface TestSystem extends SystemRow, KeyPair {
  /** The data folder its home was made in. */
  dataDir: string;
}

let counter = 0;

/**
 * Registers a system (vendor made if missing) with a generated key, and makes its home under
 * dataDir (the test's data folder, which the test removes). Pass `keyPair` to reuse a key.
 */
export async function registerSystem(
  pool: Pool,
  opts: { username?: string; vendor?: string; uuid?: string; inbox?: 'per-authority' | 'flat'; metadata?: 'file-metadata' | 'legacy'; dataDir: string; keyType?: 'ed25519' | 'rsa' | 'ecdsa'; keyPair?: KeyPair; enabled?: boolean },
): Promise<TestSystem> {
  const vendor = await createVendor(pool, opts.vendor);
  const pair = opts.keyPair ?? generateKeyPair(opts.keyType);
  const username = opts.username ?? `system-${process.pid}-${++counter}`;
  const row = await register(pool, { username, vendor: vendor.name, key: pair.key, uuid: opts.uuid, inbox: opts.inbox, metadata: opts.metadata }, { by: BY, dataDir: opts.dataDir });
  if (opts.enabled === false) await setSystemEnabled(pool, username, false, BY);
  return { ...row, enabled: opts.enabled !== false, ...pair, dataDir: opts.dataDir };
}

/** Adds another key to a system (rotation); returns the new pair. */
export async function addKey(pool: Pool, username: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519'): Promise<KeyPair> {
  const pair = generateKeyPair(type);
  await addSystemKey(pool, username, pair.key, BY);
  return pair;
}

export async function disableSystem(pool: Pool, username: string): Promise<void> {
  await setSystemEnabled(pool, username, false, BY);
}

export interface TestInfRef {
  name: string;
  number: number;
  version: number;
}

/**
 * Issues an InfRef to `owner`. `approve: true` records its declaration as received and approves
 * it (it can carry data); `declaration: 'pending' | 'rejected'` stops half way.
 */
export async function issueInfRef(pool: Pool, owner: string, opts: { approve?: boolean; declaration?: 'pending' | 'approved' | 'rejected'; title?: string } = {}): Promise<TestInfRef> {
  const i = await issue(pool, { owner, title: opts.title }, BY);
  const declaration = opts.declaration ?? (opts.approve ? 'approved' : undefined);
  if (declaration) await declare(pool, i.name, declaration);
  return { name: i.name, number: i.number, version: i.version };
}

/** Records the declaration as received, then (unless 'pending') decides it. */
export async function declare(pool: Pool, infref: string, status: 'pending' | 'approved' | 'rejected' = 'approved'): Promise<void> {
  await receiveDeclaration(pool, infref, undefined, BY);
  if (status === 'approved') await decideDeclaration(pool, infref, 'approve', undefined, BY);
  if (status === 'rejected') await decideDeclaration(pool, infref, 'reject', 'rejected by a test', BY);
}

/** Received + approved in one call (the InfRef may carry data; older versions become superseded). */
export async function approve(pool: Pool, infref: string): Promise<void> {
  await declare(pool, infref, 'approved');
}

/** `<n>_<v+1>`; with `approve: true` also approved (which supersedes the older version). */
export async function newVersion(pool: Pool, infref: string, opts: { approve?: boolean } = {}): Promise<TestInfRef> {
  const v = await newInfRefVersion(pool, infref, BY);
  if (opts.approve) await approve(pool, v.name);
  return { name: v.name, number: v.number, version: v.version };
}

export async function revokeInfRef(pool: Pool, infref: string, reason = 'revoked by a test'): Promise<void> {
  await revoke(pool, infref, reason, BY);
}

/** A route; `authority` is a kommunekode ('751'/'0751') or CVR; dates 'YYYY-MM-DD'. */
export async function addRoute(pool: Pool, input: AddRouteInput): Promise<RouteRow> {
  return add(pool, input, BY);
}

/** An authority that is not a municipality (folder defaults to the CVR). */
export async function addOtherAuthority(pool: Pool, cvr: string, name = `Authority ${cvr}`, folder?: string) {
  return addAuthority(pool, { cvr, name, folder }, BY);
}

/** An approved service agreement (what production needs, SPEC §5 1205). */
export async function approveAgreement(pool: Pool, input: { system: string; service: 'send' | 'fetch'; authority: string }): Promise<number> {
  const a = await requestAgreement(pool, input, BY);
  await decideAgreement(pool, String(a.id), 'approve', undefined, BY);
  return a.id;
}

/**
 * The usual arrangement in one call: sender and recipient (same dataDir), an approved InfRef owned
 * by the sender, and a route for the authority (default Aarhus, 0751).
 */
export async function routedPair(
  pool: Pool,
  opts: { dataDir: string; sender?: string; recipient?: string; authority?: string; senderOpts?: Partial<Parameters<typeof registerSystem>[1]>; recipientOpts?: Partial<Parameters<typeof registerSystem>[1]> },
): Promise<{ sender: TestSystem; recipient: TestSystem; infref: TestInfRef; route: RouteRow; authority: string }> {
  const authority = opts.authority ?? '0751';
  const sender = await registerSystem(pool, { ...opts.senderOpts, username: opts.sender ?? opts.senderOpts?.username, dataDir: opts.dataDir });
  const recipient = await registerSystem(pool, { ...opts.recipientOpts, username: opts.recipient ?? opts.recipientOpts?.username, dataDir: opts.dataDir });
  const infref = await issueInfRef(pool, sender.username, { approve: true });
  const route = await addRoute(pool, { sender: sender.username, infref: infref.name, recipient: recipient.username, authority });
  return { sender, recipient, infref, route, authority };
}
