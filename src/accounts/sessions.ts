import type { Queryable } from '../db/pool.js';
import type { Clock } from './clock.js';
import { PERSON_COLUMNS, PERSON_JOINS, personOf, type Person, type PersonRow } from './person.js';
import { hashSecret, newSecret } from './secret-token.js';

export const SESSION_IDLE_MS = 8 * 3_600_000;
export const SESSION_MAX_MS = 24 * 3_600_000;
/** last_seen is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 60_000;

/** A new session (a fresh id at every login); returns the id for the cookie. */
export async function createSession(db: Queryable, userId: number, address: string, clock: Clock): Promise<string> {
  const id = newSecret();
  const now = clock();
  await db.query('INSERT INTO sessions (id_hash, user_id, created_at, last_seen, address) VALUES ($1, $2, $3, $3, $4)', [hashSecret(id), userId, now, address]);
  return id;
}

/**
 * The person of a live session: not idle for 8 h, not older than 24 h, account not disabled.
 * An expired session is deleted on sight.
 */
export async function personOfSession(db: Queryable, id: string, clock: Clock): Promise<Person | undefined> {
  const now = clock();
  const { rows } = await db.query<PersonRow & { createdAt: Date; lastSeen: Date }>(
    `SELECT s.created_at AS "createdAt", s.last_seen AS "lastSeen", ${PERSON_COLUMNS}
       FROM sessions s JOIN users u ON u.id = s.user_id ${PERSON_JOINS}
      WHERE s.id_hash = $1`,
    [hashSecret(id)],
  );
  const row = rows[0];
  if (!row) return undefined;
  const idle = now.getTime() - row.lastSeen.getTime();
  if (row.disabled || idle > SESSION_IDLE_MS || now.getTime() - row.createdAt.getTime() > SESSION_MAX_MS) {
    await endSession(db, id);
    return undefined;
  }
  if (idle > TOUCH_EVERY_MS) await db.query('UPDATE sessions SET last_seen = $2 WHERE id_hash = $1', [hashSecret(id), now]);
  return personOf(row);
}

/** Ends the session; says whose it was (undefined when it had ended already). */
export async function endSession(db: Queryable, id: string): Promise<{ email: string } | undefined> {
  const { rows } = await db.query<{ email: string }>('DELETE FROM sessions s USING users u WHERE s.id_hash = $1 AND u.id = s.user_id RETURNING u.email', [hashSecret(id)]);
  return rows[0];
}

/**
 * Sessions past their limits, failed logins older than the lockout window and lockouts that have
 * ended; run now and then so the tables do not grow. Returns the sessions removed.
 */
export async function purgeExpiredSessions(db: Queryable, clock: Clock, lockoutWindowMs = 15 * 60_000): Promise<number> {
  const now = clock().getTime();
  const { rowCount } = await db.query('DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2', [
    new Date(now - SESSION_IDLE_MS),
    new Date(now - SESSION_MAX_MS),
  ]);
  await db.query('DELETE FROM login_failures WHERE at < $1', [new Date(now - lockoutWindowMs)]);
  await db.query('DELETE FROM login_lockouts WHERE until < $1', [new Date(now)]);
  return rowCount ?? 0;
}
