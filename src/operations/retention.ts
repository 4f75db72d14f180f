import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { log } from '../log.js';
import { deliveryDir } from '../router/place-delivery.js';
import { deliveriesPlacedBefore, recordDeliveryExpired, recordQuarantineExpired } from '../router/sql/expire-transfers.js';
import { METADATA_SUFFIX, RECEIPT_SUFFIX, dataLayout, inDir, outDir } from '../storage/homes.js';

/**
 * Retention (SPEC §2 RETENTION_DAYS): after that many days the platform purges
 *  - delivered files a recipient has not fetched (file + .metadata), the delivery and its transfer
 *    becoming `expired`;
 *  - quarantined files of rejected transfers, the transfer becoming `expired` (its error code stays);
 *  - receipts the sender has not fetched;
 *  - data files left in OUT that no trigger ever claimed.
 * Every purge is an audit row; transfer rows are kept (metadata only), so `transfer list --status
 * expired` shows what went. Time comes from the caller (`now`), so tests set it instead of waiting.
 */
export interface RetentionOptions {
  pool: Pool;
  dataDir: string;
  retentionDays: number;
  now?: Date;
  actor?: string;
}

export interface RetentionResult {
  unfetchedDeliveries: number;
  quarantinedTransfers: number;
  receipts: number;
  abandonedUploads: number;
  bytesFreed: number;
}

export async function runRetention(opts: RetentionOptions): Promise<RetentionResult> {
  const now = opts.now ?? new Date();
  const cutoff = new Date(now.getTime() - opts.retentionDays * 86_400_000);
  const actor = opts.actor ?? 'retention';
  const result: RetentionResult = { unfetchedDeliveries: 0, quarantinedTransfers: 0, receipts: 0, abandonedUploads: 0, bytesFreed: 0 };
  const purge = async (path: string) => {
    const s = await stat(path).catch(() => undefined);
    if (!s) return false;
    await rm(path, { recursive: true, force: true });
    result.bytesFreed += s.isDirectory() ? 0 : s.size;
    return true;
  };

  // Unfetched deliveries.
  for (const d of await deliveriesPlacedBefore(opts.pool, cutoff)) {
    const dir = deliveryDir(opts.dataDir, d.username, d.folder);
    const purged = await purge(join(dir, d.deliveredName));
    await purge(join(dir, d.deliveredName + METADATA_SUFFIX));
    await inTransaction(opts.pool, async (tx) => {
      await recordDeliveryExpired(tx, { deliveryId: d.id, transferId: d.transferId, purged, at: now });
      if (!purged) return; // already fetched: nothing was purged, nothing to audit
      await audit(tx, {
        actor,
        action: 'retention.purge-unfetched',
        entity: 'transfer',
        entityId: d.transferId,
        after: { recipient: d.username, folder: d.folder, file: d.deliveredName, retentionDays: opts.retentionDays },
      });
    });
    if (purged) result.unfetchedDeliveries += 1;
  }

  // Quarantined files of rejected transfers.
  const quarantine = dataLayout(opts.dataDir).quarantine;
  for (const entry of await readdir(quarantine, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory()) continue;
    const path = join(quarantine, entry.name);
    const s = await stat(path).catch(() => undefined);
    if (!s || s.mtime >= cutoff) continue;
    const files = await readdir(path).catch(() => [] as string[]);
    for (const f of files) await purge(join(path, f));
    await rm(path, { recursive: true, force: true });
    await inTransaction(opts.pool, async (tx) => {
      await recordQuarantineExpired(tx, entry.name, now);
      await audit(tx, { actor, action: 'retention.purge-quarantine', entity: 'transfer', entityId: entry.name, after: { files, retentionDays: opts.retentionDays } });
    });
    result.quarantinedTransfers += 1;
  }

  // Receipts not fetched, and data files in OUT that no trigger claimed.
  for (const user of await readdir(dataLayout(opts.dataDir).homes).catch(() => [] as string[])) {
    for (const [dir, kind] of [
      [inDir(opts.dataDir, user), 'receipt'],
      [outDir(opts.dataDir, user), 'out'],
    ] as const) {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (!entry.isFile()) continue;
        if (kind === 'receipt' && !entry.name.endsWith(RECEIPT_SUFFIX)) continue;
        const path = join(dir, entry.name);
        const s = await stat(path).catch(() => undefined);
        if (!s || s.mtime >= cutoff) continue;
        await purge(path);
        await audit(opts.pool, {
          actor,
          action: kind === 'receipt' ? 'retention.purge-receipt' : 'retention.purge-abandoned-upload',
          entity: 'system',
          entityId: user,
          after: { file: `${kind === 'receipt' ? 'IN' : 'OUT'}/${entry.name}`, bytes: s.size, modified: s.mtime, retentionDays: opts.retentionDays },
        });
        if (kind === 'receipt') result.receipts += 1;
        else result.abandonedUploads += 1;
      }
    }
  }
  log.info({ op: 'retention', ...result, retentionDays: opts.retentionDays }, 'retention run done');
  return result;
}
