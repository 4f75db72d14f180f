import { audit } from '../audit/audit.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { AccountRefusedError } from './account-error.js';
import { requireUser } from './find-user.js';
import { PERSON_COLUMNS, PERSON_JOINS, personOf, type Person, type PersonRow } from './person.js';
import { hashSecret, newSecret } from './secret-token.js';

/** Tokens start with this, so a leaked one is recognisable (secret scanners, logs). */
const TOKEN_PREFIX = 'fu_';

/** `user token <email>`: a new API token, shown once; only its hash is kept. */
export async function createApiToken(pool: Pool, email: string, by: string): Promise<{ email: string; token: string }> {
  return inTransaction(pool, async (db) => {
    // Read again under a lock a disable waits for (and waits for a disable under way): the disable
    // revokes the tokens it sees, so a token is made before it, and revoked by it, or refused after it.
    const { id } = await requireUser(db, email);
    await db.query('SELECT 1 FROM users WHERE id = $1 FOR SHARE', [id]);
    const user = await requireUser(db, email);
    if (user.disabled) throw new AccountRefusedError('already-disabled', `${user.email} is disabled; enable it first with 'filudveksling user enable ${user.email}'.`);
    const token = newSecret(TOKEN_PREFIX);
    const { rows } = await db.query<{ id: number }>('INSERT INTO api_tokens (token_hash, user_id) VALUES ($1, $2) RETURNING id', [hashSecret(token), user.id]);
    await audit(db, { actor: by, action: 'user.token', entity: 'user', entityId: user.email, after: { tokenId: rows[0]!.id } });
    return { email: user.email, token };
  });
}

/** `user token <email> --revoke`: every token of the person stops working. */
export async function revokeApiTokens(pool: Pool, email: string, by: string): Promise<{ email: string; revoked: number }> {
  return inTransaction(pool, async (db) => {
    const user = await requireUser(db, email);
    const { rows } = await db.query<{ id: number }>('UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id', [user.id]);
    await audit(db, { actor: by, action: 'user.token-revoke', entity: 'user', entityId: user.email, after: { revoked: rows.map((r) => r.id) } });
    return { email: user.email, revoked: rows.length };
  });
}

/** The person a bearer token belongs to, if the token is live and the account enabled. */
export async function personOfApiToken(db: Queryable, token: string): Promise<Person | undefined> {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  const { rows } = await db.query<PersonRow>(
    `SELECT ${PERSON_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id ${PERSON_JOINS}
      WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT u.disabled`,
    [hashSecret(token)],
  );
  return rows[0] ? personOf(rows[0]) : undefined;
}
