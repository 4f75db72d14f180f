import type { Queryable } from '../db/pool.js';

export interface LoginKeys {
  systemId: number;
  username: string;
  /** Active keys, each '<type> <base64>' as stored. */
  publicKeys: string[];
}

/**
 * The keys a system may log in with: its active (not removed) keys, only while the system is
 * enabled. undefined when there is no such enabled system or it has no active key — the SFTP edge
 * answers that exactly like a wrong key.
 */
export async function findLoginKeys(db: Queryable, username: string): Promise<LoginKeys | undefined> {
  const { rows } = await db.query<{ system_id: number; username: string; public_key: string }>(
    `SELECT s.id AS system_id, s.username, k.public_key
       FROM systems s
       JOIN system_keys k ON k.system_id = s.id AND k.removed_at IS NULL
      WHERE s.username = $1 AND s.enabled
      ORDER BY k.id`,
    [username],
  );
  if (rows.length === 0) return undefined;
  return { systemId: rows[0]!.system_id, username: rows[0]!.username, publicKeys: rows.map((r) => r.public_key) };
}
