import { readFile } from 'node:fs/promises';
import { log } from '../log.js';
import { queueBackend } from '../router/routing-queue.js';
import type { ComponentFactory } from '../serve/component.js';
import { startNoticeClock } from './notice-clock.js';
import { startNoticeSender, type NoticeSender } from './notice-sender.js';

/**
 * Notices (SPEC §12) on nodes that route (roles all and router): the clock that writes the hourly
 * rejection digests and "falling behind" notices, and, with SMTP_URL, the sender that mails the
 * outbox. Without SMTP_URL notices stay in the outbox and the portal shows them.
 */
export const noticesComponent: ComponentFactory = async ({ config, database, role }) => {
  if (role !== 'all' && role !== 'router') return undefined;
  let sender: NoticeSender | undefined;
  if (!config.smtpUrl) {
    log.info({ op: 'notice' }, 'SMTP_URL is not set: notices stay in the outbox (portal, notice list)');
  } else {
    sender = await startNoticeSender({
      pool: database.pool,
      backend: queueBackend(config, database.url),
      smtpUrl: config.smtpUrl,
      tlsCa: config.smtpCaFile ? await readFile(config.smtpCaFile, 'utf8') : undefined,
      mailFrom: config.mailFrom,
      publicUrl: config.portalPublicUrl,
      attempts: config.noticeAttempts,
      backoffMs: config.noticeBackoffMs,
    });
  }
  const clock = startNoticeClock({ pool: database.pool, unfetchedHours: config.notifyUnfetchedHours });
  return {
    name: 'notices',
    async stop() {
      await clock.stop();
      await sender?.close();
    },
  };
};
