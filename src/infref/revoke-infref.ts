import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { requireInfRef } from './require-infref.js';

/** `infref revoke <infref> --reason …`: that version carries no more data (INFREF_REVOKED, SPEC §5). */
export async function revokeInfRef(pool: Pool, text: string, reason: string | undefined, by: string): Promise<{ name: string; previousStatus: string }> {
  const why = reason?.trim();
  if (!why) throw new UsageError(`Give the reason for revoking ${text} with --reason "…" (it is kept in the audit log).`);
  return inTransaction(pool, async (db) => {
    const infref = await requireInfRef(db, text, { forUpdate: true });
    if (infref.status === 'revoked') throw new RefusedError(`${infref.name} is already revoked${infref.statusReason ? ` (${infref.statusReason})` : ''}; nothing to do.`);
    await db.query("UPDATE infrefs SET status = 'revoked', status_reason = $2 WHERE id = $1", [infref.id, why]);
    await audit(db, { actor: by, action: 'infref.revoke', entity: 'infref', entityId: infref.name, before: { status: infref.status }, after: { status: 'revoked', reason: why } });
    return { name: infref.name, previousStatus: infref.status };
  });
}
