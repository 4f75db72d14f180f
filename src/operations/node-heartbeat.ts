import { hostname } from 'node:os';
import type { Queryable } from '../db/pool.js';
import { log } from '../log.js';
import { activeSessions } from '../metrics/metrics.js';
import { nodeId } from './node-id.js';
import type { ComponentFactory } from '../serve/component.js';

const HEARTBEAT_MS = 5_000;

/**
 * Reports this node in the `nodes` table every few seconds, for `filudveksling status`. It inserts
 * the row before the other components start, so they can add to it (setMailsNotices).
 */
export const nodeHeartbeat: ComponentFactory = async ({ database, role }) => {
  const id = nodeId;
  const db: Queryable = database.pool;
  await db.query('INSERT INTO nodes (id, hostname, pid, role) VALUES ($1, $2, $3, $4)', [id, hostname(), process.pid, role]);
  const beat = async () => {
    const sessions = (await activeSessions.get()).values[0]?.value ?? 0;
    await db.query('UPDATE nodes SET last_seen = now(), sessions = $2 WHERE id = $1', [id, sessions]);
  };
  const timer = setInterval(() => void beat().catch((err: unknown) => log.warn({ err, op: 'heartbeat' }, 'node heartbeat failed')), HEARTBEAT_MS);
  timer.unref();
  return {
    name: 'node-heartbeat',
    async stop() {
      clearInterval(timer);
      await db.query('UPDATE nodes SET stopped_at = now() WHERE id = $1', [id]).catch(() => undefined);
    },
  };
};

/**
 * Whether this node mails notices: the notices component says so when its sender starts (and no
 * longer when it stops). The heartbeat keeps the row live; the portal and `filudveksling status` read
 * the flag of the live nodes (cluster-status.ts) to tell whether anybody mails the outbox.
 */
export async function setMailsNotices(db: Queryable, mails: boolean): Promise<void> {
  await db.query('UPDATE nodes SET mails_notices = $2 WHERE id = $1', [nodeId, mails]);
}
