import type { Queryable } from '../db/pool.js';
import { RefusedError } from '../errors.js';

export interface VendorRow {
  id: number;
  name: string;
  cvr: string | null;
  createdAt: Date;
}

const COLUMNS = 'id, name, cvr, created_at AS "createdAt"';

export async function findVendor(db: Queryable, name: string): Promise<VendorRow | undefined> {
  const { rows } = await db.query<VendorRow>(`SELECT ${COLUMNS} FROM vendors WHERE name = $1`, [name]);
  return rows[0];
}

export async function findVendorById(db: Queryable, id: number): Promise<VendorRow | undefined> {
  const { rows } = await db.query<VendorRow>(`SELECT ${COLUMNS} FROM vendors WHERE id = $1`, [id]);
  return rows[0];
}

/** The vendor, or a refusal that says how to add it. */
export async function requireVendor(db: Queryable, name: string): Promise<VendorRow> {
  const vendor = await findVendor(db, name);
  if (!vendor) throw new RefusedError(`Unknown vendor '${name}' (add it with 'filudveksling vendor add ${quoteArg(name)}', or see 'filudveksling vendor list').`, { code: 'vendor-unknown', values: { name } });
  return vendor;
}

export async function listVendors(db: Queryable): Promise<Array<VendorRow & { systems: number }>> {
  const { rows } = await db.query<VendorRow & { systems: number }>(
    `SELECT v.id, v.name, v.cvr, v.created_at AS "createdAt", count(s.id)::int AS systems
       FROM vendors v LEFT JOIN systems s ON s.vendor_id = v.id GROUP BY v.id ORDER BY v.name`,
  );
  return rows;
}

/** Quotes a value for a command line shown in a message, when it needs it. */
export function quoteArg(value: string): string {
  // Double quotes: hints sit inside single quotes ('filudveksling … --vendor "Fagsystem A/S"'), and a
  // shell (and cmd.exe) takes them; \ " $ ` are escaped for a POSIX shell.
  return /^[A-Za-z0-9_.:@%+=,\/-]+$/.test(value) ? value : `"${value.replace(/(["\\$`])/g, '\\$1')}"`;
}
