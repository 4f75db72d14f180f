import type { Queryable } from '../db/pool.js';
import { IN_FLIGHT_SQL } from '../router/transfer-states.js';

/** The cluster as the database sees it: live nodes and the transfers not yet decided. */
export interface NodeStatus {
  id: string;
  hostname: string;
  pid: number;
  role: string;
  startedAt: Date;
  lastSeen: Date;
  sessions: number;
  /** The node mails notices (role all or router, with SMTP_URL): notices-component.ts sets it. */
  mailsNotices: boolean;
}

export interface QueueStatus {
  /** Transfers received but not yet delivered or rejected. */
  inFlight: number;
  /** Transfers whose delivery failed after its retries (operator: transfer retry). */
  failed: number;
  /** Seconds since the oldest in-flight transfer was received. */
  oldestSeconds: number;
}

/** A node counts as alive when it reported within this many seconds. */
export const NODE_ALIVE_SECONDS = 30;

export async function liveNodes(db: Queryable): Promise<NodeStatus[]> {
  const { rows } = await db.query<NodeStatus>(
    `SELECT id, hostname, pid, role, started_at AS "startedAt", last_seen AS "lastSeen", sessions, mails_notices AS "mailsNotices"
       FROM nodes WHERE stopped_at IS NULL AND last_seen > now() - make_interval(secs => $1) ORDER BY started_at`,
    [NODE_ALIVE_SECONDS],
  );
  return rows;
}

/**
 * Whether any live node mails notices. When none does, the outbox is mailed by nobody: notices stay
 * pending and are read only in the portal (the Udbakke and Advis pages and `status` say so).
 */
export async function someNodeMailsNotices(db: Queryable): Promise<boolean> {
  return (await liveNodes(db)).some((n) => n.mailsNotices);
}

export async function queueStatus(db: Queryable): Promise<QueueStatus> {
  const { rows } = await db.query<QueueStatus>(
    `SELECT count(*) FILTER (WHERE status IN ${IN_FLIGHT_SQL})::int AS "inFlight",
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            coalesce(extract(epoch FROM now() - min(received_at) FILTER (WHERE status IN ${IN_FLIGHT_SQL})), 0)::int AS "oldestSeconds"
       FROM transfers`,
  );
  return rows[0]!;
}
