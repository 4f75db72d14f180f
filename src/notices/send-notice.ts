import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Transporter } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Pool } from '../db/pool.js';
import { mailText } from './notice-texts.js';
import { claimNotice, markCommitting, markRefused, markSent, type NoticeRow } from './outbox.js';

export interface SendDeps {
  pool: Pool;
  transport: Transporter;
  mailFrom: string;
  publicUrl: string;
  now: () => Date;
  /** Tests only: runs when the message is written but its final line not yet (or just) sent. */
  hooks?: { beforeCommit?: (id: string) => Promise<void>; afterAccepted?: (id: string) => Promise<void> };
}

/**
 * One attempt at one notice. The message goes out as a stream whose end waits for the row to say
 * 'committing': until then the SMTP server has not seen the final "." and cannot have accepted it.
 * Returns false when another node holds it or it is already sent; throws on an SMTP refusal after
 * putting the row back to pending (or failed when `last`).
 */
export async function sendNotice(deps: SendDeps, id: string, last: boolean): Promise<boolean> {
  const claim = randomUUID();
  const row = await claimNotice(deps.pool, id, claim, deps.now());
  if (!row) return false;
  try {
    const message = await compose(deps, row);
    await deps.transport.sendMail({ envelope: { from: deps.mailFrom, to: [row.email] }, raw: committingStream(deps, row, claim, message) });
  } catch (err) {
    await markRefused(deps.pool, id, claim, err instanceof Error ? err.message : String(err), last);
    throw err;
  }
  await deps.hooks?.afterAccepted?.(id);
  await markSent(deps.pool, id, claim, deps.now());
  return true;
}

async function compose(deps: SendDeps, row: NoticeRow): Promise<Buffer> {
  const host = deps.mailFrom.split('@')[1] ?? 'localhost';
  return new MailComposer({
    from: deps.mailFrom,
    to: row.email,
    subject: row.subject,
    text: mailText(row, deps.publicUrl),
    messageId: `<notice-${row.id}@${host}>`,
    headers: { 'Auto-Submitted': 'auto-generated' },
  })
    .compile()
    .build();
}

function committingStream(deps: SendDeps, row: NoticeRow, claim: string, message: Buffer): Readable {
  let given = false;
  return new Readable({
    read() {
      if (!given) {
        given = true;
        this.push(message);
        return;
      }
      void (async () => {
        await deps.hooks?.beforeCommit?.(row.id);
        if (!(await markCommitting(deps.pool, row.id, claim))) throw new Error(`notice ${row.id} was taken over by another node; not finishing this copy`);
      })().then(
        () => this.push(null),
        (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });
}
