import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { AccountRefusedError, AccountUsageError } from './account-error.js';
import { EMAIL_MAX_LENGTH, NAME_MAX_LENGTH } from './account-limits.js';
import { createAccountLink, type AccountLink } from './account-links.js';
import type { Clock } from './clock.js';
import { findUserByEmail, normaliseEmail } from './find-user.js';
import { organisationOf, type Language, type Role } from './roles.js';
import { sendInvitation } from './send-invitation.js';

export interface Invitee {
  email: string;
  role: Role;
  name?: string;
  vendorId?: number;
  authorityId?: number;
  language?: Language;
}

export interface Invitation {
  email: string;
  role: Role;
  link: AccountLink;
}

const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;

/**
 * Creates a person without a password and a one-time invitation link (72 h) that sets it (SPEC §11).
 * The caller has checked that `by` may invite into that organisation.
 */
export async function inviteUser(pool: Pool, input: Invitee, by: string, opts: { publicUrl: string; clock: Clock }): Promise<Invitation> {
  const email = checkEmail(input.email);
  const name = (input.name ?? '').trim();
  if (name.length > NAME_MAX_LENGTH) throw new AccountUsageError('name-too-long', `A name must be at most ${NAME_MAX_LENGTH} characters (got ${name.length}).`, 'name');
  checkOrganisation(input);
  return inTransaction(pool, async (db) => {
    if (await findUserByEmail(db, email)) {
      throw new AccountRefusedError('user-exists', `${email} already has an account; send a new link with 'filudveksling user reset ${email}'.`);
    }
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO users (email, name, role, vendor_id, authority_id, language) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (email) DO NOTHING RETURNING id`,
      [email, name, input.role, input.vendorId ?? null, input.authorityId ?? null, input.language ?? 'da'],
    );
    if (!rows[0]) throw new AccountRefusedError('user-exists', `${email} already has an account; send a new link with 'filudveksling user reset ${email}'.`);
    const link = await createAccountLink(db, rows[0].id, 'invitation', opts.publicUrl, opts.clock());
    await audit(db, {
      actor: by,
      action: 'user.invite',
      entity: 'user',
      entityId: email,
      after: { email, name, role: input.role, vendorId: input.vendorId ?? null, authorityId: input.authorityId ?? null, expiresAt: link.expiresAt },
    });
    await sendInvitation(db, { purpose: 'invitation', to: { email, name, language: input.language ?? 'da' }, link, by });
    return { email, role: input.role, link };
  });
}

export function checkEmail(text: string): string {
  const email = normaliseEmail(text);
  if (email.length > EMAIL_MAX_LENGTH || !EMAIL.test(email)) {
    throw new AccountUsageError('email-invalid', `'${text}' is not an e-mail address; give one like name@example.dk.`, 'email');
  }
  return email;
}

function checkOrganisation(input: Invitee): void {
  const kind = organisationOf(input.role);
  if (kind === 'vendor' && input.vendorId === undefined) {
    throw new AccountUsageError('organisation-missing', `A ${input.role} belongs to a vendor: give --vendor <name>.`, 'vendor');
  }
  if (kind === 'authority' && input.authorityId === undefined) {
    throw new AccountUsageError('organisation-missing', `An ${input.role} belongs to an authority: give --authority <kommunekode|cvr>.`, 'authority');
  }
  if ((kind !== 'vendor' && input.vendorId !== undefined) || (kind !== 'authority' && input.authorityId !== undefined)) {
    throw new AccountUsageError('organisation-not-allowed', `An ${input.role} belongs to ${kind === 'kombit' ? 'no vendor or authority' : `a ${kind} only`}: leave out ${kind === 'vendor' ? '--authority' : kind === 'authority' ? '--vendor' : '--vendor and --authority'}.`, kind === 'vendor' ? 'authority' : 'vendor');
  }
}
