import { audit } from '../audit/audit.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { isValidCvr } from './authority-ref.js';
import { AUTHORITY_COLUMNS, findAuthorityByCvr, type AuthorityRow } from './find-authority.js';
import { checkFolderName } from './folder-name.js';
import { authorityLabel } from './require-authority.js';

export function checkCvrArg(cvr: string, what = 'CVR number'): string {
  const t = cvr.trim();
  if (!/^[0-9]{8}$/.test(t)) throw new UsageError(`${what} '${cvr}' is not 8 digits; give the authority's CVR number, e.g. 55133018.`, { code: 'cvr-not-8-digits', values: { cvr } });
  if (!isValidCvr(t)) throw new UsageError(`${what} '${cvr}' fails the CVR modulus-11 check; check the digits (see the CVR register).`, { code: 'cvr-check-failed', values: { cvr } });
  return t;
}

/** How long an authority's name may be (`authority add`, the portal's form). */
export const AUTHORITY_NAME_MAX_LENGTH = 200;

export function checkName(name: string): string {
  const t = name.trim();
  if (!t || t.length > AUTHORITY_NAME_MAX_LENGTH) {
    throw new UsageError(`--name must be 1–${AUTHORITY_NAME_MAX_LENGTH} characters (got '${name}').`, { code: 'authority-name-invalid', values: { length: t.length, max: AUTHORITY_NAME_MAX_LENGTH } });
  }
  return t;
}

/** Each authority has its own in-folder (IN/<folder>/): another's is refused, naming whose it is. */
export function folderTaken(folder: string, owner: AuthorityRow): RefusedError {
  return new RefusedError(`The folder '${folder}' is already used by ${authorityLabel(owner)}; give another --folder.`, { code: 'authority-folder-taken', values: { folder, authority: authorityLabel(owner) } });
}

export async function folderOwner(db: Queryable, folder: string, exceptId?: number): Promise<AuthorityRow | undefined> {
  const { rows } = await db.query<AuthorityRow>(`SELECT ${AUTHORITY_COLUMNS} FROM authorities WHERE folder = $1 AND id <> $2`, [folder, exceptId ?? 0]);
  return rows[0];
}

/** `authority add <cvr> --name … [--folder …]`: an authority that is not a municipality. */
export async function addAuthority(pool: Pool, input: { cvr: string; name: string; folder?: string }, by: string): Promise<AuthorityRow> {
  const cvr = checkCvrArg(input.cvr);
  const name = checkName(input.name);
  const folder = checkFolderName(input.folder ?? cvr);
  return inTransaction(pool, async (db) => {
    await db.query('LOCK TABLE authorities IN SHARE ROW EXCLUSIVE MODE');
    const existing = await findAuthorityByCvr(db, cvr);
    if (existing) throw new RefusedError(`CVR ${cvr} is already known as ${authorityLabel(existing)}; change it with 'filudveksling authority update ${cvr} …'.`, {
        code: 'authority-cvr-exists',
        values: { cvr, authority: authorityLabel(existing) },
      });
    const clash = await folderOwner(db, folder);
    if (clash) throw folderTaken(folder, clash);
    const { rows } = await db.query<AuthorityRow>(
      `INSERT INTO authorities (cvr, name, folder) VALUES ($1, $2, $3) RETURNING ${AUTHORITY_COLUMNS}`,
      [cvr, name, folder],
    );
    const authority = rows[0]!;
    await audit(db, { actor: by, action: 'authority.add', entity: 'authority', entityId: authority.id, after: authority });
    return authority;
  });
}
