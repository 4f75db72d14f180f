import { audit } from '../audit/audit.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { AccountRefusedError } from './account-error.js';
import { createAccountLink, type AccountLink } from './account-links.js';
import type { Clock } from './clock.js';
import { findUserByEmail, requireUser } from './find-user.js';
import type { PersonRow } from './person.js';
import { sendInvitation } from './send-invitation.js';

/**
 * `user disable|enable`: a disabled person cannot log in. Disabling ends their sessions, revokes their
 * API tokens and ends their open one-time links, for good: enabling them again lets them log in with
 * their password, not revive a token or link made before (a leaver's leaked token stays dead).
 */
export async function setUserDisabled(pool: Pool, email: string, disabled: boolean, by: string): Promise<{ email: string; disabled: boolean }> {
  return inTransaction(pool, async (db) => {
    const user = await requireUser(db, email);
    await db.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [user.id]);
    if (user.disabled === disabled) {
      throw disabled
        ? new AccountRefusedError('already-disabled', `${user.email} is already disabled.`)
        : new AccountRefusedError('already-enabled', `${user.email} is not disabled.`);
    }
    await db.query('UPDATE users SET disabled = $2 WHERE id = $1', [user.id, disabled]);
    if (!disabled) {
      await audit(db, { actor: by, action: 'user.enable', entity: 'user', entityId: user.email, before: { disabled: true }, after: { disabled: false } });
      return { email: user.email, disabled };
    }
    await db.query('DELETE FROM sessions WHERE user_id = $1', [user.id]);
    const tokens = await db.query<{ id: number }>('UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id', [user.id]);
    const links = await db.query('UPDATE account_links SET used_at = now() WHERE user_id = $1 AND used_at IS NULL', [user.id]);
    await audit(db, {
      actor: by,
      action: 'user.disable',
      entity: 'user',
      entityId: user.email,
      before: { disabled: false },
      after: { disabled: true, tokensRevoked: tokens.rows.map((r) => r.id), linksEnded: links.rowCount ?? 0 },
    });
    return { email: user.email, disabled };
  });
}

/** `user reset`: a one-time link (72 h) to set a new password; the old password works until then. */
export async function resetUser(pool: Pool, email: string, by: string, opts: { publicUrl: string; clock: Clock }): Promise<{ email: string; link: AccountLink }> {
  return inTransaction(pool, async (db) => {
    const user = await lockedUser(db, email);
    if (user.disabled) throw new AccountRefusedError('already-disabled', `${user.email} is disabled; enable it first with 'filudveksling user enable ${user.email}'.`);
    return { email: user.email, link: await sendNewLink(db, user, by, opts) };
  });
}

/**
 * The person, read under their row's lock: a disable under way is waited for and then seen, and one
 * coming waits for what is done here (it ends the links it sees, so a link made on a stale read would
 * outlive it and work again after an enable).
 */
async function lockedUser(db: Queryable, email: string): Promise<PersonRow> {
  const { id } = await requireUser(db, email);
  await db.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [id]);
  return requireUser(db, email);
}

async function sendNewLink(db: Queryable, user: PersonRow, by: string, opts: { publicUrl: string; clock: Clock }): Promise<AccountLink> {
  // A person who never accepted the invitation gets a fresh invitation rather than a reset.
  const purpose = user.passwordHash === null ? 'invitation' : 'reset';
  const link = await createAccountLink(db, user.id, purpose, opts.publicUrl, opts.clock());
  await audit(db, { actor: by, action: `user.${purpose === 'reset' ? 'reset' : 'reinvite'}`, entity: 'user', entityId: user.email, after: { expiresAt: link.expiresAt } });
  await sendInvitation(db, { purpose, to: { email: user.email, name: user.name, language: user.language }, link, by });
  return link;
}

/** A self-service reset within this long of the last one mailed sends nothing: the person has that link. */
const OWN_RESET_EVERY_MS = 15 * 60_000;

/**
 * "Forgot password" (self-service, mail only): a reset link for an active account, nothing for an
 * unknown, disabled or never-activated one (an anonymous request must not replace an invitation
 * link someone was given). Anyone may type anyone's address, so while a reset link mailed in the
 * last 15 min is open nothing new is sent: no flood of mails, and no stranger replacing the link the
 * person is about to open. The caller answers the same whatever this finds. True when a link was sent.
 */
export async function requestOwnReset(pool: Pool, email: string, opts: { publicUrl: string; clock: Clock }): Promise<boolean> {
  return inTransaction(pool, async (db) => {
    if (!(await findUserByEmail(db, email))) return false;
    // Requests for one person at once are decided one after the other, and after a disable under way.
    const user = await lockedUser(db, email);
    if (user.disabled || user.passwordHash === null) return false;
    const { rowCount } = await db.query(`SELECT 1 FROM account_links WHERE user_id = $1 AND purpose = 'reset' AND used_at IS NULL AND created_at > $2`, [
      user.id,
      new Date(opts.clock().getTime() - OWN_RESET_EVERY_MS),
    ]);
    if (rowCount) return false;
    await sendNewLink(db, user, 'self-service', opts);
    return true;
  });
}

/** The portal's language switch, kept per person. */
export async function setUserLanguage(pool: Pool, userId: number, language: 'da' | 'en', by: string): Promise<void> {
  await inTransaction(pool, async (db) => {
    const { rows } = await db.query<{ email: string; before: string }>(
      'UPDATE users u SET language = $2 FROM users o WHERE u.id = $1 AND o.id = u.id RETURNING u.email, o.language AS before',
      [userId, language],
    );
    const row = rows[0];
    if (row && row.before !== language) {
      await audit(db, { actor: by, action: 'user.language', entity: 'user', entityId: row.email, before: { language: row.before }, after: { language } });
    }
  });
}
