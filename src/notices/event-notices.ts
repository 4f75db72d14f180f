import type { Language } from '../accounts/roles.js';
import type { AgreementRow } from '../agreements/agreement-row.js';
import type { Queryable } from '../db/pool.js';
import { authorityAdmins, operators, vendorAdmins } from './addressees.js';
import { recordNotice, type Addressee } from './record-notice.js';

/** The accounts module's invitation or reset link (its InvitationMessage; restated here so neither imports the other both ways). */
export interface AccountLinkMessage {
  purpose: 'invitation' | 'reset';
  to: { email: string; name: string; language: Language };
  link: { url: string; expiresAt: Date };
}

/** SPEC §12, agreement requested: the authority's admins. Called in the request's transaction. */
export async function agreementRequestedNotice(db: Queryable, a: AgreementRow): Promise<void> {
  await recordNotice(db, {
    event: 'agreement.requested',
    key: `agreement.requested:${a.id}`,
    addressees: await authorityAdmins(db, a.authorityId),
    facts: { agreement: a.id, system: a.system, service: a.service, authority: a.authority, vendor: a.vendor },
  });
}

/** SPEC §12, agreement approved, rejected or terminated: the system's vendor's admins. */
export async function agreementDecidedNotice(db: Queryable, a: AgreementRow): Promise<void> {
  if (a.status !== 'approved' && a.status !== 'rejected' && a.status !== 'terminated') return;
  await recordNotice(db, {
    event: `agreement.${a.status}`,
    key: `agreement.${a.status}:${a.id}`,
    addressees: await vendorAdmins(db, a.vendorId),
    facts: { agreement: a.id, system: a.system, service: a.service, authority: a.authority, reason: a.reason ?? '', effective: a.effective ?? '' },
  });
}

/** SPEC §12, invitation and password reset: the person, with the link (the one notice that carries a secret). */
export async function accountLinkNotice(db: Queryable, m: AccountLinkMessage): Promise<void> {
  const user = await db.query<{ id: number }>('SELECT id FROM users WHERE email = $1', [m.to.email.toLowerCase()]);
  await recordNotice(db, {
    event: m.purpose === 'invitation' ? 'account.invitation' : 'account.reset',
    key: `account.${m.purpose}:${m.link.expiresAt.toISOString()}`,
    addressees: [{ userId: user.rows[0]?.id ?? null, email: m.to.email, language: m.to.language }],
    facts: { name: m.to.name, link: m.link.url, expires: m.link.expiresAt.toISOString().slice(0, 16).replace('T', ' ') + ' UTC' },
  });
}

/** SPEC §12, GDPR declaration approved or rejected: the InfRef owner's vendor's admins. */
export async function declarationDecidedNotice(db: Queryable, d: { infref: string; ownerVendorId: number; status: 'approved' | 'rejected'; reason: string | null; decidedAt: Date }): Promise<void> {
  await recordNotice(db, {
    event: `declaration.${d.status}`,
    // The decision's own time (the row's decided_at): the same decision recorded twice tells once.
    key: `declaration.${d.status}:${d.infref}:${d.decidedAt.toISOString()}`,
    addressees: await vendorAdmins(db, d.ownerVendorId),
    facts: { infref: d.infref, reason: d.reason ?? '' },
  });
}

/** The transfer as the failure notice names it (the router's row; restated so notices need not import the router). */
export interface FailedTransfer {
  id: string;
  senderSystemId: number;
  senderUsername: string;
  fileName: string | null;
  triggerName: string;
  /** Operator retries so far: a transfer fails again after a retry, and each failure is an event of its own. */
  retries: number;
}

/**
 * SPEC §12, transfer failed (1901): the sender's vendor's admins and the operators. Called in the
 * transaction that records the failure, so the notice exists exactly when the failure does.
 */
export async function transferFailedNotice(db: Queryable, t: FailedTransfer): Promise<void> {
  const vendor = await db.query<{ vendorId: number }>('SELECT vendor_id AS "vendorId" FROM systems WHERE id = $1', [t.senderSystemId]);
  const admins = vendor.rows[0] ? await vendorAdmins(db, vendor.rows[0].vendorId) : [];
  await recordNotice(db, {
    event: 'transfer.failed',
    key: `transfer.failed:${t.id}:${t.retries}`,
    addressees: once([...admins, ...(await operators(db))]),
    facts: { system: t.senderUsername, transfer: t.id, fileName: t.fileName ?? t.triggerName },
  });
}

/** Each address once (a person is one role, but an address could be given twice). */
function once(addressees: Addressee[]): Addressee[] {
  const seen = new Set<string>();
  return addressees.filter((a) => !seen.has(a.email) && seen.add(a.email));
}
