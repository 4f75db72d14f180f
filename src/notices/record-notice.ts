import type { Language } from '../accounts/roles.js';
import type { Queryable } from '../db/pool.js';
import { noticeText, type NoticeEvent, type NoticeFacts } from './notice-texts.js';

export interface Addressee {
  userId: number | null;
  email: string;
  language: Language;
}

export interface NoticeInput {
  event: NoticeEvent;
  /** Identifies the event's occurrence (e.g. `agreement.approved:42`); with the addressee it is unique. */
  key: string;
  addressees: Addressee[];
  facts: NoticeFacts;
}

/**
 * Writes one outbox row per addressee in the caller's transaction (SPEC §12), so a notice exists
 * exactly when its event does. A second call for the same (key, addressee) adds nothing.
 * Returns how many rows were new.
 */
export async function recordNotice(db: Queryable, input: NoticeInput): Promise<number> {
  let added = 0;
  for (const to of input.addressees) {
    const text = noticeText(input.event, to.language, input.facts);
    const r = await db.query(
      `INSERT INTO notices (event, event_key, user_id, email, language, subject, body, link)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_key, email) DO NOTHING`,
      [input.event, input.key, to.userId, to.email, to.language, text.subject, text.body, text.link],
    );
    added += r.rowCount ?? 0;
  }
  return added;
}
