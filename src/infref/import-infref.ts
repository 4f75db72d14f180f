import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { requireSystem } from '../systems/require-system.js';
import { formatInfRef } from './infref-name.js';
import type { IssuedInfRef } from './issue-infref.js';
import { parseInfRefArg } from './require-infref.js';

/**
 * `infref import FagsystemdefineredeDataRefGDPR<n>_<v> --owner <system>`: an InfRef KOMBIT already
 * issued, kept under its own number and version, so a municipality moving its exchanges here keeps
 * its numbers. A number has one owner; a version is registered once. The counter moves past <n>, so
 * `infref issue` continues above the highest number. It carries data once its declaration is approved,
 * like any other.
 */
export async function importInfRef(pool: Pool, input: { name: string; owner: string; title?: string }, by: string): Promise<IssuedInfRef> {
  const ref = parseInfRefArg(input.name);
  const title = input.title?.trim() || null;
  if (title && title.length > 500) throw new UsageError(`--title is ${title.length} characters; keep it to 500.`);
  return inTransaction(pool, async (db) => {
    // The counter row's lock orders imports and issues, so neither hands out a number the other takes.
    await db.query('SELECT last_number FROM infref_counter FOR UPDATE');
    const owner = await requireSystem(db, input.owner, 'owner system');
    const name = formatInfRef(ref);
    const { rows: same } = await db.query<{ version: number; owner: string }>(
      'SELECT i.version, s.username AS owner FROM infrefs i JOIN systems s ON s.id = i.owner_system_id WHERE i.number = $1 ORDER BY i.version',
      [ref.number],
    );
    if (same.some((r) => r.version === ref.version)) {
      throw new RefusedError(`${name} is already registered (owner '${same.find((r) => r.version === ref.version)!.owner}'); see 'filudveksling infref show ${name}'.`);
    }
    const other = same.find((r) => r.owner !== owner.username);
    if (other) {
      throw new RefusedError(`InfRef number ${ref.number} belongs to '${other.owner}' (${same.map((r) => formatInfRef({ number: ref.number, version: r.version })).join(', ')}), not to '${owner.username}'; a number has one owner. Check the number, or give --owner ${other.owner}.`);
    }
    const inserted = await db.query<{ id: number }>('INSERT INTO infrefs (number, version, owner_system_id, title) VALUES ($1, $2, $3, $4) RETURNING id', [
      ref.number,
      ref.version,
      owner.id,
      title,
    ]);
    await db.query('UPDATE infref_counter SET last_number = greatest(last_number, $1)', [ref.number]);
    const made: IssuedInfRef = { id: inserted.rows[0]!.id, name, number: ref.number, version: ref.version, owner: owner.username, title };
    await audit(db, { actor: by, action: 'infref.import', entity: 'infref', entityId: name, after: made });
    return made;
  });
}
