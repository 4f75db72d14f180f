import type { Language } from '../accounts/roles.js';
import type { AgreementRow } from '../agreements/agreement-row.js';
import type { Queryable } from '../db/pool.js';
import { authorityAdmins, vendorAdmins } from './addressees.js';
import { recordNotice } from './record-notice.js';

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
    facts: { system: a.system, service: a.service, authority: a.authority, vendor: a.vendor },
  });
}

/** SPEC §12, agreement approved, rejected or terminated: the system's vendor's admins. */
export async function agreementDecidedNotice(db: Queryable, a: AgreementRow): Promise<void> {
  if (a.status !== 'approved' && a.status !== 'rejected' && a.status !== 'terminated') return;
  await recordNotice(db, {
    event: `agreement.${a.status}`,
    key: `agreement.${a.status}:${a.id}`,
    addressees: await vendorAdmins(db, a.vendorId),
    facts: { system: a.system, service: a.service, authority: a.authority, reason: a.reason ?? '', effective: a.effective ?? '' },
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
export async function declarationDecidedNotice(db: Queryable, d: { infref: string; ownerVendorId: number; status: 'approved' | 'rejected'; reason: string | null }): Promise<void> {
  await recordNotice(db, {
    event: `declaration.${d.status}`,
    key: `declaration.${d.status}:${d.infref}:${Date.now()}`,
    addressees: await vendorAdmins(db, d.ownerVendorId),
    facts: { infref: d.infref, reason: d.reason ?? '' },
  });
}
