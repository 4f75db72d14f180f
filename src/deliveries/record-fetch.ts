import type { Queryable } from '../db/pool.js';

/** A delivered data file as its recipient sees it: `/IN/<folder>/<name>`, or `/IN/<name>` in a flat inbox. */
export interface DeliveredFile {
  recipientSystemId: number;
  folder: string | null;
  name: string;
}

/**
 * The statement both records share: the first time only (the column still empty), for the delivery
 * the recipient holds under that name, with its audit row in the same statement. A file in IN that
 * is no delivery (a receipt, a metadata file) matches nothing and records nothing.
 */
function recordOnce(column: 'fetched' | 'deleted', action: string) {
  return async (db: Queryable, file: DeliveredFile, node: string): Promise<boolean> => {
    const { rows } = await db.query<{ transfer_id: string }>(
      `WITH d AS (
         UPDATE deliveries SET ${column}_at = now(), ${column}_by_node = $4
          WHERE recipient_system_id = $1 AND delivered_name = $3 AND folder IS NOT DISTINCT FROM $2
            AND placed_at IS NOT NULL AND ${column}_at IS NULL AND deleted_at IS NULL
          RETURNING transfer_id, recipient_system_id)
       , a AS (
         INSERT INTO audit_log (actor, action, entity, entity_id, after)
         SELECT s.username, $5, 'transfer', d.transfer_id::text, jsonb_build_object('recipient', s.username, 'node', $4::text)
           FROM d JOIN systems s ON s.id = d.recipient_system_id)
       SELECT transfer_id FROM d`,
      [file.recipientSystemId, file.folder, file.name, node, action],
    );
    return rows.length > 0;
  };
}

/** The recipient has read every byte of the delivered file (SPEC §6). */
export const recordFetched = recordOnce('fetched', 'delivery.fetched');
/** The recipient has deleted the delivered file. */
export const recordDeleted = recordOnce('deleted', 'delivery.deleted');
