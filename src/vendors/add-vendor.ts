import { audit } from '../audit/audit.js';
import { isValidCvr } from '../authority/authority-ref.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { findVendor, type VendorRow } from './find-vendor.js';

/** How long a vendor's name may be (`vendor add`, the portal's form, the API's `vendor`). */
export const VENDOR_NAME_MAX_LENGTH = 200;

/** `vendor add <name> [--cvr]`: a vendor (leverandør) that owns systems. */
export async function addVendor(pool: Pool, input: { name: string; cvr?: string }, by: string): Promise<VendorRow> {
  const name = input.name.trim();
  if (!name || name.length > VENDOR_NAME_MAX_LENGTH) {
    throw new UsageError(`A vendor name must be 1–${VENDOR_NAME_MAX_LENGTH} characters (got '${input.name}').`, { code: 'vendor-name-invalid', values: { length: name.length, max: VENDOR_NAME_MAX_LENGTH } });
  }
  const cvr = input.cvr?.trim();
  if (cvr !== undefined && !isValidCvr(cvr)) {
    throw new UsageError(`'${cvr}' is not a valid CVR number: give the vendor's 8-digit CVR number (it fails the modulus-11 check or is not 8 digits).`, {
      code: 'vendor-cvr-invalid',
      values: { cvr },
    });
  }
  return inTransaction(pool, async (db) => {
    if (await findVendor(db, name)) throw new RefusedError(`A vendor named '${name}' already exists (see 'filudveksling vendor list'); choose another name.`, { code: 'vendor-exists', values: { name } });
    const { rows } = await db.query<VendorRow>(
      `INSERT INTO vendors (name, cvr) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING
       RETURNING id, name, cvr, created_at AS "createdAt"`,
      [name, cvr ?? null],
    );
    const vendor = rows[0];
    if (!vendor) throw new RefusedError(`A vendor named '${name}' already exists (see 'filudveksling vendor list'); choose another name.`, { code: 'vendor-exists', values: { name } });
    await audit(db, { actor: by, action: 'vendor.add', entity: 'vendor', entityId: vendor.id, after: { name, cvr: cvr ?? null } });
    return vendor;
  });
}
