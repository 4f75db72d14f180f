import { audit } from '../audit/audit.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { EMAIL_MAX_LENGTH } from './account-limits.js';
import type { Clock } from './clock.js';
import { findUserByEmail, normaliseEmail } from './find-user.js';
import { decoyHash, verifyPassword } from './password-hash.js';
import { createSession, endSession } from './sessions.js';

export const LOCKOUT_FAILURES = 10;
export const LOCKOUT_WINDOW_MS = 15 * 60_000;
export const LOCKOUT_MS = 15 * 60_000;

export type LoginOutcome =
  | { ok: true; sessionId: string; userId: number }
  /** Wrong e-mail, wrong password, disabled or not yet activated: one answer for all (no account probing). */
  | { ok: false; reason: 'wrong' }
  | { ok: false; reason: 'locked'; until: Date };

/**
 * Checks e-mail and password and opens a new session. Every path verifies one argon2id hash (a decoy
 * when there is no account), so an unknown e-mail answers as fast as a wrong password. Failures
 * count per (e-mail as typed, address), known account or not; 10 within 15 min lock the pair for 15 min.
 */
export async function login(pool: Pool, input: { email: string; password: string; address: string }, clock: Clock): Promise<LoginOutcome> {
  const email = normaliseEmail(input.email).slice(0, EMAIL_MAX_LENGTH);
  const address = input.address;
  const locked = await lockedUntil(pool, email, address, clock());
  if (locked) {
    await verifyPassword(await decoyHash(), input.password);
    return { ok: false, reason: 'locked', until: locked };
  }
  const user = await findUserByEmail(pool, email);
  const usable = user && !user.disabled && user.passwordHash !== null;
  const matches = await verifyPassword(usable ? user.passwordHash! : await decoyHash(), input.password);
  return inTransaction(pool, async (db) => {
    // The outcome is decided under the pair's lock, after the verification: guesses sent all at once
    // all passed the check above, and those decided after the tenth failure are locked out too
    // (else 40 parallel guesses got 36 answers and a right one logged in past the lock).
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`login:${email}:${address}`]);
    const until = await lockedUntil(db, email, address, clock());
    if (until) return { ok: false as const, reason: 'locked' as const, until };
    // The password was verified outside this transaction (it is slow): a disable or a new password
    // since then is seen here, under the person's lock (a disable waits for it, and ends the session
    // made; one under way is waited for), so no session outlives a disable to come back with an enable.
    const still = usable && matches && (await db.query<{ ok: boolean }>('SELECT NOT disabled AND password_hash = $2 AS ok FROM users WHERE id = $1 FOR SHARE', [user.id, user.passwordHash])).rows[0]?.ok;
    if (usable && matches && still) {
      await db.query('DELETE FROM login_failures WHERE email = $1 AND address = $2', [email, address]);
      const sessionId = await createSession(db, user.id, address, clock);
      await audit(db, { actor: user.email, action: 'user.login', entity: 'user', entityId: user.email, after: { address } });
      return { ok: true as const, sessionId, userId: user.id };
    }
    return recordFailure(db, email, address, clock);
  });
}

/**
 * Ends the session at logout, audited as `user.logout` in the same transaction: both or neither. A
 * session already ended (logged out in another tab, expired meanwhile) ends nothing and writes nothing.
 */
export async function logout(pool: Pool, sessionId: string, address: string): Promise<void> {
  await inTransaction(pool, async (db) => {
    const ended = await endSession(db, sessionId);
    if (ended) await audit(db, { actor: ended.email, action: 'user.logout', entity: 'user', entityId: ended.email, after: { address } });
  });
}

async function lockedUntil(db: Queryable, email: string, address: string, now: Date): Promise<Date | undefined> {
  const { rows } = await db.query<{ until: Date }>('SELECT until FROM login_lockouts WHERE email = $1 AND address = $2 AND until > $3', [email, address, now]);
  return rows[0]?.until;
}

/** Counts a failure of the pair (its lock held); the tenth within the window locks the pair. */
async function recordFailure(db: Queryable, email: string, address: string, clock: Clock): Promise<LoginOutcome> {
  const now = clock();
  await db.query('INSERT INTO login_failures (email, address, at) VALUES ($1, $2, $3)', [email, address, now]);
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM login_failures WHERE email = $1 AND address = $2 AND at > $3', [
    email,
    address,
    new Date(now.getTime() - LOCKOUT_WINDOW_MS),
  ]);
  if (rows[0]!.n < LOCKOUT_FAILURES) return { ok: false, reason: 'wrong' };
  const until = new Date(now.getTime() + LOCKOUT_MS);
  await db.query(
    `INSERT INTO login_lockouts (email, address, until) VALUES ($1, $2, $3) ON CONFLICT (email, address) DO UPDATE SET until = EXCLUDED.until`,
    [email, address, until],
  );
  await db.query('DELETE FROM login_failures WHERE email = $1 AND address = $2', [email, address]);
  const known = await findUserByEmail(db, email);
  if (known) await audit(db, { actor: 'portal', action: 'user.locked', entity: 'user', entityId: known.email, after: { address, until } });
  return { ok: false, reason: 'locked', until };
}
