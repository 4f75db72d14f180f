import type { Queryable } from '../../db/pool.js';
import { TRANSFER_COLUMNS, TRANSFER_FROM, type TransferRow } from './transfer-row.js';

export async function findTransfer(db: Queryable, id: string): Promise<TransferRow | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id.trim())) return undefined;
  const { rows } = await db.query<TransferRow>(`SELECT ${TRANSFER_COLUMNS} FROM ${TRANSFER_FROM} WHERE t.id = $1::uuid`, [id.trim().toLowerCase()]);
  return rows[0];
}
