import type { Queryable } from '../db/pool.js';

/** A registered system (SPEC §1) as the SFTP edge and the router see it. */
export interface SystemRow {
  id: number;
  username: string;
  uuid: string;
  vendorId: number;
  enabled: boolean;
  inboxLayout: 'per-authority' | 'flat';
  metadataFormat: 'file-metadata' | 'legacy';
}

const COLUMNS = `id, username, uuid::text AS uuid, vendor_id AS "vendorId", enabled,
  inbox_layout AS "inboxLayout", metadata_format AS "metadataFormat"`;

export async function findSystemByUsername(db: Queryable, username: string): Promise<SystemRow | undefined> {
  const { rows } = await db.query<SystemRow>(`SELECT ${COLUMNS} FROM systems WHERE username = $1`, [username]);
  return rows[0];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** By UUID, without regard to case (SPEC §4); undefined for text that is not a UUID at all. */
export async function findSystemByUuid(db: Queryable, uuid: string): Promise<SystemRow | undefined> {
  const u = uuid.trim();
  if (!UUID.test(u)) return undefined;
  const { rows } = await db.query<SystemRow>(`SELECT ${COLUMNS} FROM systems WHERE uuid = $1::uuid`, [u.toLowerCase()]);
  return rows[0];
}
