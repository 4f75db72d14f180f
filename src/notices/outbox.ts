import type { Language } from '../accounts/roles.js';
import type { Queryable } from '../db/pool.js';

export interface NoticeRow {
  id: string;
  event: string;
  email: string;
  language: Language;
  subject: string;
  body: string;
  link: string;
  state: string;
  attempts: number;
}

/**
 * Takes a pending notice for one send attempt: pending → sending under a fresh claim token. Only one
 * node wins a row; a lost race, or a row already sent, returns undefined.
 */
export async function claimNotice(db: Queryable, id: string, claim: string, now: Date): Promise<NoticeRow | undefined> {
  const r = await db.query<NoticeRow>(
    `UPDATE notices SET state = 'sending', claim = $2, claimed_at = $3, attempts = attempts + 1
      WHERE id = $1 AND state = 'pending'
      RETURNING id::text, event, email, language, subject, body, link, state, attempts`,
    [id, claim, now],
  );
  return r.rows[0];
}

/** sending → committing, just before the message's last line; false if the claim was lost meanwhile. */
export async function markCommitting(db: Queryable, id: string, claim: string): Promise<boolean> {
  const r = await db.query(`UPDATE notices SET state = 'committing' WHERE id = $1 AND claim = $2 AND state = 'sending'`, [id, claim]);
  return r.rowCount === 1;
}

export async function markSent(db: Queryable, id: string, claim: string, now: Date): Promise<void> {
  await db.query(`UPDATE notices SET state = 'sent', sent_at = $3, last_error = NULL WHERE id = $1 AND claim = $2`, [id, claim, now]);
}

/** The SMTP server refused (or was away): back to pending for the next attempt, or failed after the last. */
export async function markRefused(db: Queryable, id: string, claim: string, error: string, last: boolean): Promise<void> {
  await db.query(`UPDATE notices SET state = $3, last_error = $4 WHERE id = $1 AND claim = $2 AND state IN ('sending', 'committing')`, [
    id,
    claim,
    last ? 'failed' : 'pending',
    error.slice(0, 500),
  ]);
}

/**
 * Rows a node left when it stopped mid-send (claimed longer ago than the lease, which is longer than
 * the SMTP timeouts bound a send): 'sending' never wrote the message's final line, so the server
 * never accepted it and the row is pending again; 'committing' may have been accepted, so it becomes
 * 'uncertain' and is never sent again (at most once), shown among the failures.
 */
export async function recoverAbandoned(db: Queryable, now: Date, leaseMs: number): Promise<string[]> {
  const before = new Date(now.getTime() - leaseMs);
  const back = await db.query<{ id: string }>(`UPDATE notices SET state = 'pending', claim = NULL WHERE state = 'sending' AND claimed_at < $1 RETURNING id::text`, [before]);
  await db.query(
    `UPDATE notices SET state = 'uncertain', last_error = 'the sending node stopped after the message was handed over; not sent again so it arrives at most once'
      WHERE state = 'committing' AND claimed_at < $1`,
    [before],
  );
  return back.rows.map((row) => row.id);
}

export async function pendingNoticeIds(db: Queryable, limit = 500): Promise<string[]> {
  const r = await db.query<{ id: string }>(`SELECT id::text FROM notices WHERE state = 'pending' ORDER BY id LIMIT $1`, [limit]);
  return r.rows.map((row) => row.id);
}

/** For status and /metrics. */
export async function noticeCounts(db: Queryable): Promise<{ pending: number; failed: number; sent: number }> {
  const r = await db.query<{ pending: string; failed: string; sent: string }>(
    `SELECT count(*) FILTER (WHERE state IN ('pending', 'sending', 'committing')) AS pending,
            count(*) FILTER (WHERE state IN ('failed', 'uncertain')) AS failed,
            count(*) FILTER (WHERE state = 'sent') AS sent FROM notices`,
  );
  const row = r.rows[0]!;
  return { pending: Number(row.pending), failed: Number(row.failed), sent: Number(row.sent) };
}

export interface NoticeListRow {
  id: string;
  event: string;
  email: string;
  language: string;
  subject: string;
  state: string;
  attempts: number;
  createdAt: Date;
  sentAt: Date | null;
  lastError: string | null;
}

/**
 * The outbox, newest first: `notice list` and the portal's Udbakke. `failed` also shows 'uncertain'
 * rows; `after` (the id of the previous page's last row) pages on. Ordered by the column, not by the
 * `id::text` it is returned as (text would put '9' before '60').
 */
export async function listNotices(db: Queryable, filter: { failed?: boolean; to?: string; userId?: number; limit?: number; after?: string } = {}): Promise<NoticeListRow[]> {
  const r = await db.query<NoticeListRow>(
    `SELECT id::text, event, email, language, subject, state, attempts, created_at AS "createdAt", sent_at AS "sentAt", last_error AS "lastError"
       FROM notices
      WHERE ($1::boolean IS NOT TRUE OR state IN ('failed', 'uncertain')) AND ($2::text IS NULL OR email = lower($2)) AND ($3::int IS NULL OR user_id = $3)
        AND ($5::bigint IS NULL OR notices.id < $5::bigint)
      ORDER BY notices.id DESC LIMIT $4`,
    [filter.failed ?? false, filter.to ?? null, filter.userId ?? null, filter.limit ?? 500, filter.after ?? null],
  );
  return r.rows;
}

export interface OwnNotice {
  id: string;
  event: string;
  subject: string;
  body: string;
  /** A path below PORTAL_PUBLIC_URL, or (invitations, resets) the absolute one-time link. */
  link: string;
  state: string;
  createdAt: Date;
  sentAt: Date | null;
}

/** One person's notices (the portal, GET /api/v1/notices), newest first by the id column (not its text), keyset-paged by id. */
export async function noticesOf(db: Queryable, userId: number, page: { limit: number; after?: string }): Promise<OwnNotice[]> {
  const { rows } = await db.query<OwnNotice>(
    `SELECT id::text, event, subject, body, link, state, created_at AS "createdAt", sent_at AS "sentAt"
       FROM notices WHERE user_id = $1 AND ($2::bigint IS NULL OR notices.id < $2::bigint)
      ORDER BY notices.id DESC LIMIT $3`,
    [userId, page.after ?? null, page.limit],
  );
  return rows;
}
