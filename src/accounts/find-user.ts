import type { Queryable } from '../db/pool.js';
import { AccountRefusedError } from './account-error.js';
import { PERSON_COLUMNS, PERSON_JOINS, type PersonRow } from './person.js';

export async function findUserByEmail(db: Queryable, email: string): Promise<PersonRow | undefined> {
  const { rows } = await db.query<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM users u ${PERSON_JOINS} WHERE u.email = $1`, [normaliseEmail(email)]);
  return rows[0];
}

export async function findUserById(db: Queryable, id: number): Promise<PersonRow | undefined> {
  const { rows } = await db.query<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM users u ${PERSON_JOINS} WHERE u.id = $1`, [id]);
  return rows[0];
}

export async function requireUser(db: Queryable, email: string): Promise<PersonRow> {
  const user = await findUserByEmail(db, email);
  if (!user) {
    throw new AccountRefusedError('user-unknown', `No person with the e-mail '${email}' (see 'filudveksling user list'; invite one with 'filudveksling user invite').`);
  }
  return user;
}

/** Whether the portal has an operator (active or invited) — none on a fresh installation. */
export async function hasOperator(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM users WHERE role = 'operator' AND NOT disabled) AS any`);
  return rows[0]!.any;
}

/** E-mail addresses are kept and compared in lower case, trimmed. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
