import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { checkCvrArg, checkName, folderOwner, folderTaken } from './add-authority.js';
import { AUTHORITY_COLUMNS, findAuthorityByCvr, type AuthorityRow } from './find-authority.js';
import { checkFolderName } from './folder-name.js';
import { authorityLabel, requireAuthority } from './require-authority.js';

/**
 * `authority update <kommunekode|cvr> [--cvr] [--name] [--folder] [--inhabitants]`. A municipality's folder is its
 * kommunekode (SPEC §6) and stays so; other authorities may move folder (earlier deliveries stay
 * where they were put). Inhabitants are what the buffet price is multiplied by (SPEC §13).
 */
export async function updateAuthority(pool: Pool, refText: string, change: { cvr?: string; name?: string; folder?: string; inhabitants?: string }, by: string): Promise<AuthorityRow> {
  if (change.cvr === undefined && change.name === undefined && change.folder === undefined && change.inhabitants === undefined) {
    throw new UsageError('Nothing to change: give --cvr, --name, --folder and/or --inhabitants.');
  }
  const cvr = change.cvr === undefined ? undefined : checkCvrArg(change.cvr, '--cvr');
  const name = change.name === undefined ? undefined : checkName(change.name);
  const folder = change.folder === undefined ? undefined : checkFolderName(change.folder);
  const inhabitants = change.inhabitants === undefined ? undefined : parseInhabitants(change.inhabitants);
  return inTransaction(pool, async (db) => {
    await db.query('LOCK TABLE authorities IN SHARE ROW EXCLUSIVE MODE');
    const before = await requireAuthority(db, refText);
    if (folder !== undefined && before.kommunekode && folder !== before.kommunekode) {
      throw new RefusedError(`${authorityLabel(before)} is a municipality: its folder is its kommunekode ${before.kommunekode} (SPEC §6) and cannot be changed.`);
    }
    if (cvr !== undefined && cvr !== before.cvr) {
      const other = await findAuthorityByCvr(db, cvr);
      if (other) throw new RefusedError(`CVR ${cvr} already belongs to ${authorityLabel(other)}; each authority has its own CVR number.`);
    }
    if (folder !== undefined) {
      const clash = await folderOwner(db, folder, before.id);
      if (clash) throw folderTaken(folder, clash);
    }
    const { rows } = await db.query<AuthorityRow>(
      `UPDATE authorities SET cvr = coalesce($2, cvr), name = coalesce($3, name), folder = coalesce($4, folder), inhabitants = coalesce($5, inhabitants)
        WHERE id = $1 RETURNING ${AUTHORITY_COLUMNS}`,
      [before.id, cvr ?? null, name ?? null, folder ?? null, inhabitants ?? null],
    );
    const after = rows[0]!;
    await audit(db, { actor: by, action: 'authority.update', entity: 'authority', entityId: after.id, before, after });
    return after;
  });
}

/** A whole number of people, 0 or more (`--inhabitants 355238`; `355.238` and `355 238` are not taken). */
export function parseInhabitants(text: string): number {
  const t = text.trim();
  if (!/^[0-9]{1,9}$/.test(t)) {
    throw new UsageError(`--inhabitants '${text}' is not a number of inhabitants: give a whole number without separators, e.g. 355238.`);
  }
  return Number(t);
}
