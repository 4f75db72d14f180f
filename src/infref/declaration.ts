import { audit } from '../audit/audit.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { declarationDecidedNotice } from '../notices/event-notices.js';
import { RefusedError, UsageError } from '../errors.js';
import { checkDocument, findDeclarationDocument, storeDocument, type DocumentInput, type StoredDocument } from './declaration-document.js';
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
  documentType: string | null;
  documentSize: number | null;
  reason: string | null;
  receivedBy: string;
  receivedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
}

export async function findDeclaration(db: Queryable, infrefId: number): Promise<Omit<DeclarationRow, 'infref'> | undefined> {
  const { rows } = await db.query(
    `SELECT g.status, g.document_name AS "documentName", g.document_sha256 AS "documentSha256", d.content_type AS "documentType",
            d.size_bytes AS "documentSize", g.reason, g.received_by AS "receivedBy",
            g.received_at AS "receivedAt", g.decided_by AS "decidedBy", g.decided_at AS "decidedAt"
       FROM gdpr_declarations g LEFT JOIN declaration_documents d ON d.id = g.document_id WHERE g.infref_id = $1 FOR UPDATE OF g`,
    [infrefId],
  );
  return rows[0];
}

function refuseIfRetired(infref: InfRefRow, doing: string): void {
  if (infref.status === 'revoked') {
    throw new RefusedError(`${infref.name} is revoked${infref.statusReason ? ` (${infref.statusReason})` : ''}; cannot ${doing}. Issue a new InfRef with 'filudveksling infref issue'.`, {
      code: 'infref-revoked',
      values: { infref: infref.name },
    });
  }
  if (infref.status === 'superseded') {
    throw new RefusedError(`${infref.name} is superseded by a newer version whose declaration is approved; cannot ${doing}.`, { code: 'infref-superseded', values: { infref: infref.name } });
  }
}

/**
 * The declaration was received (`infref declaration --received [--document]`, or a vendor's upload
 * in the portal): recorded as pending a decision, with the document kept if one came.
 */
export async function receiveDeclaration(pool: Pool, text: string, document: DocumentInput | undefined, by: string): Promise<DeclarationRow> {
  const doc = document === undefined ? undefined : checkDocument(document);
  return inTransaction(pool, async (db) => {
    const infref = await requireInfRef(db, text, { forUpdate: true });
    refuseIfRetired(infref, 'record a declaration for it');
    const before = await findDeclaration(db, infref.id);
    if (before?.status === 'pending') {
      throw new RefusedError(`The declaration for ${infref.name} was already received (by ${before.receivedBy}) and awaits a decision: approve it with --approve or reject it with --reject --reason "…".`, {
        code: 'declaration-pending',
        values: { infref: infref.name },
      });
    }
    if (before?.status === 'approved') throw new RefusedError(`The declaration for ${infref.name} is already approved; nothing to receive.`, { code: 'declaration-approved', values: { infref: infref.name } });
    const documentId = doc ? await storeDocument(db, infref.id, doc, by) : null;
    await db.query(
      `INSERT INTO gdpr_declarations (infref_id, status, document_name, document_sha256, document_id, received_by)
         VALUES ($1, 'pending', $2, $3, $4, $5)
       ON CONFLICT (infref_id) DO UPDATE SET status = 'pending', document_name = $2, document_sha256 = $3, document_id = $4, received_by = $5,
         received_at = now(), reason = NULL, decided_by = NULL, decided_at = NULL`,
      [infref.id, doc?.name ?? null, doc?.sha256 ?? null, documentId, by],
    );
    const after = (await findDeclaration(db, infref.id))!;
    await audit(db, { actor: by, action: 'declaration.receive', entity: 'declaration', entityId: infref.name, before: before ?? undefined, after });
    return { infref: infref.name, ...after };
  });
}

/** A vendor's upload of the signed declaration (the portal, SPEC §11): received, with its document. */
export function receiveDeclarationDocument(pool: Pool, text: string, document: DocumentInput, by: string): Promise<DeclarationRow> {
  return receiveDeclaration(pool, text, document, by);
}

export interface DecisionResult extends DeclarationRow {
  /** Older versions that became 'superseded' by this approval. */
  superseded: string[];
}

export async function decideDeclaration(pool: Pool, text: string, decision: 'approve' | 'reject', reason: string | undefined, by: string): Promise<DecisionResult> {
  const why = reason?.trim() || null;
  if (decision === 'reject' && !why) throw new UsageError(`Give the reason for rejecting the declaration with --reason "…" (the sender needs to know what to correct).`, { code: 'reason-missing' });
  return inTransaction(pool, async (db) => {
    const infref = await requireInfRef(db, text, { forUpdate: true });
    const before = await findDeclaration(db, infref.id);
    const verb = decision === 'approve' ? 'approve' : 'reject';
    const about = { infref: infref.name };
    if (!before) {
      throw new RefusedError(`No declaration was received for ${infref.name}; record it first with 'filudveksling infref declaration ${infref.name} --received'.`, { code: 'declaration-none', values: about });
    }
    if (before.status === 'rejected') {
      throw new RefusedError(`The declaration for ${infref.name} was rejected${before.reason ? ` (${before.reason})` : ''}; it cannot be ${verb}d now. Record the corrected declaration with --received, then decide on that one.`, {
        code: 'declaration-rejected',
        values: about,
      });
    }
    if (before.status === 'approved') {
      throw decision === 'approve'
        ? new RefusedError(`The declaration for ${infref.name} is already approved; nothing to do.`, { code: 'declaration-approved-already', values: about })
        : new RefusedError(`The declaration for ${infref.name} is already approved; to stop the InfRef carrying data, revoke it with 'filudveksling infref revoke ${infref.name} --reason "…"'.`, {
            code: 'declaration-approved-revoke',
            values: about,
          });
    }
    refuseIfRetired(infref, `${verb} its declaration`);
    const status = decision === 'approve' ? 'approved' : 'rejected';
    await db.query('UPDATE gdpr_declarations SET status = $2, reason = $3, decided_by = $4, decided_at = now() WHERE infref_id = $1', [infref.id, status, why, by]);
    const after = (await findDeclaration(db, infref.id))!;
    await audit(db, { actor: by, action: `declaration.${decision}`, entity: 'declaration', entityId: infref.name, before, after });
    await declarationDecidedNotice(db, { infref: infref.name, ownerVendorId: infref.ownerVendorId, status, reason: why, decidedAt: after.decidedAt! });
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

/** The document an InfRef version's declaration was last received with (operators only: the portal asks can() first). */
export async function readDeclarationDocument(db: Queryable, text: string): Promise<StoredDocument & { infref: string }> {
  const infref = await requireInfRef(db, text);
  const doc = await findDeclarationDocument(db, infref.id);
  if (!doc) throw new RefusedError(`The declaration for ${infref.name} has no document (none was received with it).`, { code: 'declaration-no-document', values: { infref: infref.name } });
  return { infref: infref.name, ...doc };
}
