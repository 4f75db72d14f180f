import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { audit } from '../audit/audit.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { formatInfRef } from './infref-name.js';
import { requireInfRef, type InfRefRow } from './require-infref.js';

/**
 * The GDPR declaration (GDPR-erklæring) of one InfRef version: received → approved | rejected.
 * A rejected declaration can be received again (a corrected one); an approved one is final —
 * to stop the InfRef carrying data, revoke it.
 */
export interface DeclarationRow {
  infref: string;
  status: 'pending' | 'approved' | 'rejected';
  documentName: string | null;
  documentSha256: string | null;
  reason: string | null;
  receivedBy: string;
  receivedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
}

export async function findDeclaration(db: Queryable, infrefId: number): Promise<Omit<DeclarationRow, 'infref'> | undefined> {
  const { rows } = await db.query(
    `SELECT status, document_name AS "documentName", document_sha256 AS "documentSha256", reason, received_by AS "receivedBy",
            received_at AS "receivedAt", decided_by AS "decidedBy", decided_at AS "decidedAt"
       FROM gdpr_declarations WHERE infref_id = $1 FOR UPDATE`,
    [infrefId],
  );
  return rows[0];
}

async function readDocument(file: string): Promise<{ name: string; sha256: string }> {
  try {
    const bytes = await readFile(file);
    return { name: basename(file), sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch (err) {
    throw new RefusedError(`Cannot read the declaration document '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Give the path of the signed declaration, or leave --document out.`);
  }
}

function refuseIfRetired(infref: InfRefRow, doing: string): void {
  if (infref.status === 'revoked') throw new RefusedError(`${infref.name} is revoked${infref.statusReason ? ` (${infref.statusReason})` : ''}; cannot ${doing}. Issue a new InfRef with 'filudveksling infref issue'.`);
  if (infref.status === 'superseded') throw new RefusedError(`${infref.name} is superseded by a newer version whose declaration is approved; cannot ${doing}.`);
}

export async function receiveDeclaration(pool: Pool, text: string, documentFile: string | undefined, by: string): Promise<DeclarationRow> {
  const doc = documentFile === undefined ? undefined : await readDocument(documentFile);
  return inTransaction(pool, async (db) => {
    const infref = await requireInfRef(db, text, { forUpdate: true });
    refuseIfRetired(infref, 'record a declaration for it');
    const before = await findDeclaration(db, infref.id);
    if (before?.status === 'pending') throw new RefusedError(`The declaration for ${infref.name} was already received (by ${before.receivedBy}) and awaits a decision: approve it with --approve or reject it with --reject --reason "…".`);
    if (before?.status === 'approved') throw new RefusedError(`The declaration for ${infref.name} is already approved; nothing to receive.`);
    await db.query(
      `INSERT INTO gdpr_declarations (infref_id, status, document_name, document_sha256, received_by)
         VALUES ($1, 'pending', $2, $3, $4)
       ON CONFLICT (infref_id) DO UPDATE SET status = 'pending', document_name = $2, document_sha256 = $3, received_by = $4,
         received_at = now(), reason = NULL, decided_by = NULL, decided_at = NULL`,
      [infref.id, doc?.name ?? null, doc?.sha256 ?? null, by],
    );
    const after = (await findDeclaration(db, infref.id))!;
    await audit(db, { actor: by, action: 'declaration.receive', entity: 'declaration', entityId: infref.name, before: before ?? undefined, after });
    return { infref: infref.name, ...after };
  });
}

export interface DecisionResult extends DeclarationRow {
  /** Older versions that became 'superseded' by this approval. */
  superseded: string[];
}

export async function decideDeclaration(pool: Pool, text: string, decision: 'approve' | 'reject', reason: string | undefined, by: string): Promise<DecisionResult> {
  const why = reason?.trim() || null;
  if (decision === 'reject' && !why) throw new UsageError(`Give the reason for rejecting the declaration with --reason "…" (the sender needs to know what to correct).`);
  return inTransaction(pool, async (db) => {
    const infref = await requireInfRef(db, text, { forUpdate: true });
    const before = await findDeclaration(db, infref.id);
    const verb = decision === 'approve' ? 'approve' : 'reject';
    if (!before) throw new RefusedError(`No declaration was received for ${infref.name}; record it first with 'filudveksling infref declaration ${infref.name} --received'.`);
    if (before.status === 'rejected') {
      throw new RefusedError(`The declaration for ${infref.name} was rejected${before.reason ? ` (${before.reason})` : ''}; it cannot be ${verb}d now. Record the corrected declaration with --received, then decide on that one.`);
    }
    if (before.status === 'approved') {
      throw new RefusedError(
        decision === 'approve'
          ? `The declaration for ${infref.name} is already approved; nothing to do.`
          : `The declaration for ${infref.name} is already approved; to stop the InfRef carrying data, revoke it with 'filudveksling infref revoke ${infref.name} --reason "…"'.`,
      );
    }
    refuseIfRetired(infref, `${verb} its declaration`);
    const status = decision === 'approve' ? 'approved' : 'rejected';
    await db.query('UPDATE gdpr_declarations SET status = $2, reason = $3, decided_by = $4, decided_at = now() WHERE infref_id = $1', [infref.id, status, why, by]);
    const after = (await findDeclaration(db, infref.id))!;
    await audit(db, { actor: by, action: `declaration.${decision}`, entity: 'declaration', entityId: infref.name, before, after });
    const superseded: string[] = [];
    if (decision === 'approve') {
      // SPEC §5 INFREF_REVOKED: older versions stop carrying data once a newer one is approved.
      const { rows } = await db.query<{ version: number }>(
        `UPDATE infrefs SET status = 'superseded', status_reason = $3
          WHERE number = $1 AND version < $2 AND status = 'active' RETURNING version`,
        [infref.number, infref.version, `superseded by ${infref.name}`],
      );
      for (const r of rows.sort((a, b) => a.version - b.version)) {
        const name = formatInfRef({ number: infref.number, version: r.version });
        superseded.push(name);
        await audit(db, { actor: by, action: 'infref.supersede', entity: 'infref', entityId: name, before: { status: 'active' }, after: { status: 'superseded', by: infref.name } });
      }
    }
    return { infref: infref.name, ...after, superseded };
  });
}
