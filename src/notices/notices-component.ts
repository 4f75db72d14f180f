import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { log } from '../log.js';
import { setMailsNotices } from '../operations/node-heartbeat.js';
import { queueBackend } from '../router/routing-queue.js';
import type { ComponentFactory } from '../serve/component.js';
import { startNoticeClock } from './notice-clock.js';
import { startNoticeSender, type NoticeSender } from './notice-sender.js';

/**
 * Notices (SPEC §12) on nodes that route (roles all and router): the clock that writes the hourly
 * rejection digests and "falling behind" notices, and, with SMTP_URL, the sender that mails the
 * outbox. Without SMTP_URL notices stay in the outbox and the portal shows them. A node whose sender
 * runs says so in its `nodes` row, so the portal can tell when no live node mails at all.
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
      tlsCa: config.smtpCaFile ? await readCaFile(config.smtpCaFile) : undefined,
      mailFrom: config.mailFrom,
      publicUrl: config.portalPublicUrl,
      attempts: config.noticeAttempts,
      backoffMs: config.noticeBackoffMs,
    });
    await setMailsNotices(database.pool, true);
  }
  const clock = startNoticeClock({ pool: database.pool, unfetchedHours: config.notifyUnfetchedHours });
  return {
    name: 'notices',
    async stop() {
      await clock.stop();
      if (sender) await setMailsNotices(database.pool, false).catch(() => undefined);
      await sender?.close();
    },
  };
};

/** SMTP_CA_FILE's certificates; a file that cannot be read stops the start naming the setting, not only the OS error. */
async function readCaFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError(`Bad value for SMTP_CA_FILE: ${JSON.stringify(file)} cannot be read (${why}) — give a PEM file of the certificate(s) that sign the SMTP server's certificate, readable by the server, or unset SMTP_CA_FILE to trust the system's CAs.`);
  }
}
