import type { Queryable } from '../db/pool.js';

/**
 * The channel SFTP nodes LISTEN on: the payload is a user name whose login rights changed
 * (disabled, enabled, key added or removed), so they can end that system's sessions.
 * Sent inside the changing transaction, so it is delivered only if the change commits.
 */
export const SYSTEM_CHANGED_CHANNEL = 'filudveksling_system_changed';

export async function notifySystemChanged(db: Queryable, username: string): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [SYSTEM_CHANGED_CHANNEL, username]);
}
