import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { RefusedError } from '../errors.js';
import { formatInfRef } from './infref-name.js';
import type { IssuedInfRef } from './issue-infref.js';
import { requireInfRef } from './require-infref.js';

/**
 * `infref new-version <n>_<v>`: `<n>_<v+1>`, same number, owner and title. It carries no data until
 * its own declaration is approved; until then the older version keeps working, and at that
 * approval the older one becomes 'superseded' (see declaration.ts). Routes are per number, so they
 * carry over.
 */
export async function newInfRefVersion(pool: Pool, text: string, by: string): Promise<IssuedInfRef & { previous: string }> {
  return inTransaction(pool, async (db) => {
    const current = await requireInfRef(db, text, { forUpdate: true });
    const { rows } = await db.query<{ version: number }>('SELECT max(version) AS version FROM infrefs WHERE number = $1', [current.number]);
    const latest = rows[0]!.version;
    if (latest !== current.version) {
      throw new RefusedError(`${current.name} is not the latest version of InfRef ${current.number}: ${formatInfRef({ number: current.number, version: latest })} is. Make a new version of that one.`);
    }
    if (current.status === 'revoked') {
      throw new RefusedError(`${current.name} is revoked${current.statusReason ? ` (${current.statusReason})` : ''}; a revoked InfRef gets no new version. Issue a new InfRef with 'filudveksling infref issue'.`);
    }
    const version = current.version + 1;
    const inserted = await db.query<{ id: number }>(
      'INSERT INTO infrefs (number, version, owner_system_id, title) VALUES ($1, $2, $3, $4) RETURNING id',
      [current.number, version, current.ownerSystemId, current.title],
    );
    const made = { id: inserted.rows[0]!.id, name: formatInfRef({ number: current.number, version }), number: current.number, version, owner: current.owner, title: current.title, previous: current.name };
    await audit(db, { actor: by, action: 'infref.new-version', entity: 'infref', entityId: made.name, after: made });
    return made;
  });
}
