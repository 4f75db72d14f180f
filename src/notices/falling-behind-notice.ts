import { inTransaction, type Pool } from '../db/pool.js';
import { inboxBacklog, isFallingBehind } from '../operations/inbox-backlog.js';
import { vendorAdmins } from './addressees.js';
import { recordNotice } from './record-notice.js';
import { utcMinute } from './rejection-digest.js';

const DAY_MS = 86_400_000;

/**
 * SPEC §12, recipient falling behind (§6): each recipient whose oldest unfetched delivery is older
 * than NOTIFY_UNFETCHED_HOURS tells its vendor's admins, at most once in 24 hours. The recipient's
 * row in falling_behind_notified moves forward only when the last notice is a day old, in the same
 * transaction as the new notices, so nodes checking at once write one. Returns the recipients told.
 */
export async function writeFallingBehindNotices(pool: Pool, now: Date, unfetchedHours: number): Promise<number> {
  const behind = (await inboxBacklog(pool, now)).filter((b) => isFallingBehind(b, unfetchedHours));
  let told = 0;
  for (const b of behind) {
    const wrote = await inTransaction(pool, async (db) => {
      const { rows } = await db.query<{ id: number; vendorId: number }>(
        `INSERT INTO falling_behind_notified (system_id, notified_at) SELECT id, $2 FROM systems WHERE username = $1
         ON CONFLICT (system_id) DO UPDATE SET notified_at = EXCLUDED.notified_at
          WHERE falling_behind_notified.notified_at <= EXCLUDED.notified_at - make_interval(secs => $3)
         RETURNING system_id AS id, (SELECT vendor_id FROM systems WHERE username = $1) AS "vendorId"`,
        [b.system, now, DAY_MS / 1000],
      );
      if (!rows[0]) return false;
      await recordNotice(db, {
        event: 'recipient.behind',
        key: `recipient.behind:${b.system}:${now.toISOString()}`,
        addressees: await vendorAdmins(db, rows[0].vendorId),
        facts: { system: b.system, count: b.files, oldest: utcMinute(new Date(now.getTime() - b.oldestSeconds * 1000)), hours: unfetchedHours },
      });
      return true;
    });
    if (wrote) told += 1;
  }
  return told;
}
