import type { Queryable } from '../db/pool.js';
import type { Clock } from './clock.js';
import { hashSecret, newSecret } from './secret-token.js';

export const LINK_VALID_MS = 72 * 3_600_000;
export type LinkPurpose = 'invitation' | 'reset';

export interface AccountLink {
  token: string;
  /** The address people open: `<public url>/invitation/<token>` or `/reset/<token>`. */
  url: string;
  expiresAt: Date;
}

/** A fresh one-time link for a person (valid 72 h); earlier unused links of the person stop working. */
export async function createAccountLink(db: Queryable, userId: number, purpose: LinkPurpose, publicUrl: string, now: Date): Promise<AccountLink> {
  await db.query('UPDATE account_links SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL', [userId, now]);
  const token = newSecret();
  const expiresAt = new Date(now.getTime() + LINK_VALID_MS);
  await db.query('INSERT INTO account_links (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
    hashSecret(token),
    userId,
    purpose,
    now,
    expiresAt,
  ]);
  return { token, url: `${publicUrl}/${purpose}/${token}`, expiresAt };
}

export interface OpenLink {
  userId: number;
  purpose: LinkPurpose;
  email: string;
}

/** The person a link is for, if it is unused, unexpired and its account not disabled. Locks the link row with `forUpdate`. */
export async function findOpenLink(db: Queryable, token: string, purpose: LinkPurpose, clock: Clock, forUpdate = false): Promise<OpenLink | undefined> {
  const { rows } = await db.query<OpenLink>(
    `SELECT l.user_id AS "userId", l.purpose, u.email
       FROM account_links l JOIN users u ON u.id = l.user_id
      WHERE l.token_hash = $1 AND l.purpose = $2 AND l.used_at IS NULL AND l.expires_at > $3 AND NOT u.disabled
      ${forUpdate ? 'FOR UPDATE OF l' : ''}`,
    [hashSecret(token), purpose, clock()],
  );
  return rows[0];
}
