import type { Queryable } from '../db/pool.js';
import { accountLinkNotice } from '../notices/event-notices.js';
import type { AccountLink, LinkPurpose } from './account-links.js';
import type { Language } from './roles.js';

export interface InvitationMessage {
  purpose: LinkPurpose;
  to: { email: string; name: string; language: Language };
  link: AccountLink;
  /** Who asked for it (an e-mail, or the CLI's operator name). */
  by: string;
}

/**
 * THE HOOK POINT for notices (SPEC §12): called inside the transaction that creates an invitation or
 * reset link. The notices module writes its outbox row here (and mails it when SMTP_URL is set).
 * Until it does, the link is shown to whoever asked for it: the CLI prints it, the portal shows it.
 */
export async function sendInvitation(db: Queryable, message: InvitationMessage): Promise<void> {
  await accountLinkNotice(db, message);
}
