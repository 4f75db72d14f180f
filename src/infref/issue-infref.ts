import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { UsageError } from '../errors.js';
import { requireSystem } from '../systems/require-system.js';
import { formatInfRef } from './infref-name.js';

export interface IssuedInfRef {
  id: number;
  name: string;
  number: number;
  version: number;
  owner: string;
  title: string | null;
}

/**
 * `infref issue --owner <system>`: the next number from the one counter row (above every number in use), version 1. The row
 * lock makes concurrent issuers wait in turn, so numbers are unique and consecutive (a failed
 * issue rolls its increment back).
 */
export async function issueInfRef(pool: Pool, input: { owner: string; title?: string }, by: string): Promise<IssuedInfRef> {
  const title = input.title?.trim() || null;
  if (title && title.length > 500) throw new UsageError(`--title is ${title.length} characters; keep it to 500.`);
  return inTransaction(pool, async (db) => {
    const owner = await requireSystem(db, input.owner, 'owner system');
    // Above the highest number in use, also one imported with 'infref import' (which moves the counter too).
    const { rows } = await db.query<{ n: number }>(
      'UPDATE infref_counter SET last_number = greatest(last_number, (SELECT coalesce(max(number), 0) FROM infrefs)) + 1 RETURNING last_number AS n',
    );
    const number = rows[0]!.n;
    const inserted = await db.query<{ id: number }>('INSERT INTO infrefs (number, version, owner_system_id, title) VALUES ($1, 1, $2, $3) RETURNING id', [number, owner.id, title]);
    const issued: IssuedInfRef = { id: inserted.rows[0]!.id, name: formatInfRef({ number, version: 1 }), number, version: 1, owner: owner.username, title };
    await audit(db, { actor: by, action: 'infref.issue', entity: 'infref', entityId: issued.name, after: issued });
    return issued;
  });
}
