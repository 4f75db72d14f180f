import type { Queryable } from '../../db/pool.js';

export interface TransferListRow {
  id: string;
  receivedAt: Date;
  status: string;
  sender: string;
  fileName: string | null;
  sizeBytes: number | null;
  errorCode: string | null;
  recipients: string[];
  finishedAt: Date | null;
}

export interface TransferFilter {
  /** 'YYYY-MM-DD' (from that Danish day's start) or an ISO 8601 instant. */
  since?: string;
  status?: string;
  sender?: string;
  recipient?: string;
  limit?: number;
}

/** Newest first. */
export async function listTransfers(db: Queryable, f: TransferFilter): Promise<TransferListRow[]> {
  const since = f.since === undefined ? null : /^\d{4}-\d{2}-\d{2}$/.test(f.since) ? `${f.since}T00:00:00 Europe/Copenhagen` : f.since;
  const { rows } = await db.query<TransferListRow>(
    `SELECT t.id::text AS id, t.received_at AS "receivedAt", t.status, s.username AS sender, t.file_name AS "fileName",
            t.size_bytes AS "sizeBytes", t.error_code AS "errorCode", t.finished_at AS "finishedAt",
            coalesce((SELECT array_agg(r.username ORDER BY r.username) FROM deliveries d JOIN systems r ON r.id = d.recipient_system_id
                       WHERE d.transfer_id = t.id), '{}') AS recipients
       FROM transfers t JOIN systems s ON s.id = t.sender_system_id
      WHERE ($1::timestamptz IS NULL OR t.received_at >= $1::timestamptz)
        AND ($2::text IS NULL OR t.status = $2)
        AND ($3::text IS NULL OR s.username = $3)
        AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM deliveries d JOIN systems r ON r.id = d.recipient_system_id
                                          WHERE d.transfer_id = t.id AND r.username = $4))
      ORDER BY t.received_at DESC
      LIMIT $5`,
    [since, f.status ?? null, f.sender ?? null, f.recipient ?? null, f.limit ?? 1000],
  );
  return rows;
}
