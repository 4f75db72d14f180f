import type { Queryable } from '../../db/pool.js';
import { TRANSFER_COLUMNS, TRANSFER_FROM, type TransferRow } from './transfer-row.js';
import type { TransferState } from '../transfer-states.js';

export async function findTransfer(db: Queryable, id: string): Promise<TransferRow | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id.trim())) return undefined;
  const { rows } = await db.query<TransferRow>(`SELECT ${TRANSFER_COLUMNS} FROM ${TRANSFER_FROM} WHERE t.id = $1::uuid`, [id.trim().toLowerCase()]);
  return rows[0];
}

export async function transferStatus(db: Queryable, id: string): Promise<TransferState | undefined> {
  const { rows } = await db.query<{ status: TransferState }>('SELECT status FROM transfers WHERE id = $1', [id]);
  return rows[0]?.status;
}
