import type { Queryable } from '../../../db/pool.js';

/**
 * One page of transfers for the portal (SPEC §11 Overførsler), newest first, within a person's
 * scope: a vendor's systems as sender or recipient, an authority's data (RecipientAuthority), or
 * all. Keyset paging on (received_at, id) so page 500 costs what page 1 does.
 */
export interface TransferPageRow {
  id: string;
  receivedAt: Date;
  status: string;
  errorCode: string | null;
  sender: string;
  fileName: string | null;
  sizeBytes: number | null;
  authority: string | null;
  recipients: string[];
}

/** Whose transfers: a vendor's (sent or received by its systems), an authority's (its data), or all. */
export interface TransferScope {
  vendorId?: number;
  authorityId?: number;
}

export interface TransferPageQuery {
  scope: TransferScope;
  status?: string;
  /** A system's user name: sent or received by it. */
  system?: string;
  /** 'YYYY-MM-DD', from that Danish day's start. */
  since?: string;
  /** The cursor of the previous page's last row. */
  after?: string;
  limit: number;
}

export async function transfersPage(db: Queryable, q: TransferPageQuery): Promise<{ rows: TransferPageRow[]; next?: string }> {
  const cursor = parseCursor(q.after);
  const scope = q.scope;
  const { rows } = await db.query<TransferPageRow & { micros: number }>(
    `SELECT t.id::text AS id, t.received_at AS "receivedAt", (extract(epoch FROM t.received_at) * 1000000)::bigint AS micros, t.status, t.error_code AS "errorCode", s.username AS sender,
            t.file_name AS "fileName", t.size_bytes AS "sizeBytes",
            coalesce(a.kommunekode || ' ', '') || a.name AS authority,
            coalesce((SELECT array_agg(r.username ORDER BY r.username) FROM deliveries d JOIN systems r ON r.id = d.recipient_system_id
                       WHERE d.transfer_id = t.id), '{}') AS recipients
       FROM transfers t JOIN systems s ON s.id = t.sender_system_id LEFT JOIN authorities a ON a.id = t.authority_id
      WHERE ($1::int IS NULL OR s.vendor_id = $1 OR EXISTS (SELECT 1 FROM deliveries d JOIN systems r ON r.id = d.recipient_system_id
                                                             WHERE d.transfer_id = t.id AND r.vendor_id = $1))
        AND ($2::int IS NULL OR t.authority_id = $2)
        AND ($3::text IS NULL OR t.status = $3)
        AND ($4::text IS NULL OR s.username = $4 OR EXISTS (SELECT 1 FROM deliveries d JOIN systems r ON r.id = d.recipient_system_id
                                                            WHERE d.transfer_id = t.id AND r.username = $4))
        AND ($5::date IS NULL OR t.received_at >= ($5::date::timestamp AT TIME ZONE 'Europe/Copenhagen'))
        AND ($6::bigint IS NULL OR (t.received_at, t.id) < ('epoch'::timestamptz + $6::bigint * interval '1 microsecond', $7::uuid))
      ORDER BY t.received_at DESC, t.id DESC
      LIMIT $8`,
    [
      scope.vendorId ?? null,
      scope.authorityId ?? null,
      q.status ?? null,
      q.system ?? null,
      q.since ?? null,
      cursor?.at ?? null,
      cursor?.id ?? null,
      q.limit + 1,
    ],
  );
  const more = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return { rows: page.map(({ micros: _, ...row }) => row), next: more && last ? `${last.micros}_${last.id}` : undefined };
}

/** A transfer if it is within the scope (the detail page answers 404 otherwise). */
export async function transferInScope(db: Queryable, scope: TransferScope, id: string): Promise<boolean> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return false;
  const { rows } = await db.query(
    `SELECT 1 FROM transfers t JOIN systems s ON s.id = t.sender_system_id
      WHERE t.id = $1::uuid
        AND ($2::int IS NULL OR s.vendor_id = $2 OR EXISTS (SELECT 1 FROM deliveries d JOIN systems r ON r.id = d.recipient_system_id
                                                             WHERE d.transfer_id = t.id AND r.vendor_id = $2))
        AND ($3::int IS NULL OR t.authority_id = $3)`,
    [id, scope.vendorId ?? null, scope.authorityId ?? null],
  );
  return rows.length > 0;
}

/** `<microseconds since 1970>_<uuid>`: exact, unlike a JavaScript Date (milliseconds). */
function parseCursor(text: string | undefined): { at: string; id: string } | undefined {
  const m = text === undefined ? null : /^(\d{1,17})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(text);
  return m ? { at: m[1]!, id: m[2]! } : undefined;
}
