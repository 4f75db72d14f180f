import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { AccountRefusedError } from './account-error.js';
import { findOpenLink, type LinkPurpose } from './account-links.js';
import type { Clock } from './clock.js';
import { hashPassword } from './password-hash.js';
import { checkPassword } from './password-policy.js';

/**
 * Uses a one-time invitation or reset link: checks the password rules, stores its argon2id hash,
 * marks the link used and ends the person's other sessions. Returns the person's id.
 */
export async function setPasswordWithLink(pool: Pool, token: string, purpose: LinkPurpose, password: string, clock: Clock): Promise<number> {
  const before = await findOpenLink(pool, token, purpose, clock);
  if (!before) throw linkInvalid();
  checkPassword(password, before.email);
  const hash = await hashPassword(password);
  return inTransaction(pool, async (db) => {
    // Checked again under a lock: two tabs using one link at once set the password once.
    const link = await findOpenLink(db, token, purpose, clock, true);
    if (!link) throw linkInvalid();
    await db.query('UPDATE account_links SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL', [link.userId, clock()]);
    await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [link.userId, hash]);
    await db.query('DELETE FROM sessions WHERE user_id = $1', [link.userId]);
    await audit(db, { actor: link.email, action: purpose === 'invitation' ? 'user.accept-invitation' : 'user.reset-password', entity: 'user', entityId: link.email });
    return link.userId;
  });
}

function linkInvalid(): AccountRefusedError {
  return new AccountRefusedError('link-invalid', 'This link has been used, has expired (after 72 hours) or was replaced by a newer one; ask for a new one.');
}
