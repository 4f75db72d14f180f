import { inTransaction, type Pool } from '../db/pool.js';
import { ERROR_CODE_NAMES, ERROR_CODES, type ErrorCodeName } from '../triggers/error-codes.js';
import { vendorAdmins } from './addressees.js';
import { recordNotice } from './record-notice.js';

const HOUR_MS = 3_600_000;
/** A rejection carries its transaction's start time and commits a moment later: an hour is digested once this much past its end. */
const SETTLE_MS = 60_000;
/** A node stopped for longer catches up on the last day's hours, not more. */
const LOOK_BACK_HOURS = 24;
/** Lines in one digest; the counts above them cover every rejection. */
const MAX_LINES = 100;

/** SPEC §12: rejections by the routing checks (11xx InfRef, 12xx route), not the trigger's form (10xx) nor 1901. */
export const DIGEST_CODES: ErrorCodeName[] = ERROR_CODE_NAMES.filter((n) => ERROR_CODES[n].number >= 1100 && ERROR_CODES[n].number < 1300);

/** The start of the hour `t` is in (UTC; Danish time differs by whole hours). */
export function hourOf(t: Date): Date {
  return new Date(Math.floor(t.getTime() / HOUR_MS) * HOUR_MS);
}

/**
 * SPEC §12, transfers rejected: for each sending system, one digest per hour in which routing checks
 * rejected its transfers, to its vendor's admins — counts by code, then a line per transfer (code,
 * file name, time), never contents. Looks at the complete hours of the last day before `now`. At
 * most once per (system, hour), also across nodes and restarts: the digest's row in
 * rejection_digests is written in the same transaction as its notices, and its key refuses a second.
 * Returns the digests written.
 */
export async function writeRejectionDigests(pool: Pool, now: Date): Promise<number> {
  const until = hourOf(new Date(now.getTime() - SETTLE_MS));
  const from = new Date(until.getTime() - LOOK_BACK_HOURS * HOUR_MS);
  const { rows: due } = await pool.query<{ systemId: number; hour: Date }>(
    `SELECT t.sender_system_id AS "systemId", date_trunc('hour', t.decided_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour
       FROM transfers t
      WHERE t.status = 'rejected' AND t.decided_at >= $1 AND t.decided_at < $2 AND t.error_code = ANY($3)
        AND NOT EXISTS (SELECT 1 FROM rejection_digests d
                         WHERE d.system_id = t.sender_system_id AND d.hour = date_trunc('hour', t.decided_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
      GROUP BY 1, 2 ORDER BY 2, 1`,
    [from, until, DIGEST_CODES],
  );
  let written = 0;
  for (const d of due) if (await writeDigest(pool, d.systemId, d.hour)) written += 1;
  return written;
}

async function writeDigest(pool: Pool, systemId: number, hour: Date): Promise<boolean> {
  const end = new Date(hour.getTime() + HOUR_MS);
  return inTransaction(pool, async (db) => {
    const { rows } = await db.query<{ code: string; name: string; at: Date; system: string; vendorId: number }>(
      `SELECT t.error_code AS code, coalesce(t.file_name, t.trigger_name) AS name, t.decided_at AS at, s.username AS system, s.vendor_id AS "vendorId"
         FROM transfers t JOIN systems s ON s.id = t.sender_system_id
        WHERE t.sender_system_id = $1 AND t.status = 'rejected' AND t.decided_at >= $2 AND t.decided_at < $3 AND t.error_code = ANY($4)
        ORDER BY t.decided_at, t.id`,
      [systemId, hour, end, DIGEST_CODES],
    );
    if (rows.length === 0) return false;
    const mark = await db.query(`INSERT INTO rejection_digests (system_id, hour, rejected) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [systemId, hour, rows.length]);
    if (mark.rowCount !== 1) return false; // another node wrote this hour's digest
    const system = rows[0]!.system;
    await recordNotice(db, {
      event: 'transfers.rejected',
      key: `transfers.rejected:${system}:${hour.toISOString()}`,
      addressees: await vendorAdmins(db, rows[0]!.vendorId),
      facts: { system, count: rows.length, hour: utcMinute(hour), lines: digestLines(rows) },
    });
    return true;
  });
}

/** "1204 ROUTE_MISSING: 2" per code, a blank line, then "09:12:05 UTC  1204  name.csv" per transfer. */
function digestLines(rows: { code: string; name: string; at: Date }[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.code, (counts.get(r.code) ?? 0) + 1);
  const number = (code: string) => ERROR_CODES[code as ErrorCodeName]?.number ?? code;
  const summary = [...counts].map(([code, n]) => `${number(code)} ${code}: ${n}`);
  const lines = rows.slice(0, MAX_LINES).map((r) => `${r.at.toISOString().slice(11, 19)} UTC  ${number(r.code)}  ${r.name}`);
  if (rows.length > MAX_LINES) lines.push(`… (+${rows.length - MAX_LINES})`);
  return `${summary.join('\n')}\n\n${lines.join('\n')}`;
}

export function utcMinute(t: Date): string {
  return `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
