import { readFile } from 'node:fs/promises';
import { log } from '../log.js';
import { queueBackend } from '../router/routing-queue.js';
import type { ComponentFactory } from '../serve/component.js';
import { startNoticeSender } from './notice-sender.js';

/**
 * Mails the outbox (SPEC §12) on nodes that route (roles all and router). Without SMTP_URL nothing
 * is sent: notices stay in the outbox and the portal shows them.
 */
export const noticesComponent: ComponentFactory = async ({ config, database, role }) => {
  if (role !== 'all' && role !== 'router') return undefined;
  if (!config.smtpUrl) {
    log.info({ op: 'notice' }, 'SMTP_URL is not set: notices stay in the outbox (portal, notice list)');
    return undefined;
  }
  const sender = await startNoticeSender({
    pool: database.pool,
    backend: queueBackend(config, database.url),
    smtpUrl: config.smtpUrl,
    tlsCa: config.smtpCaFile ? await readFile(config.smtpCaFile, 'utf8') : undefined,
    mailFrom: config.mailFrom,
    publicUrl: config.portalPublicUrl,
    attempts: config.noticeAttempts,
    backoffMs: config.noticeBackoffMs,
  });
  return { name: 'notices', stop: () => sender.close() };
};
