import { Option, type Command } from 'commander';
import { RefusedError, UsageError } from '../../errors.js';
import type { RoutingQueue } from '../../router/routing-queue.js';
import { TRANSFER_STATES } from '../../router/transfer-states.js';
import { action } from '../context.js';
import { table } from '../output.js';


/** `transfer list | show | retry` (SPEC §8). */
export function registerTransfer(program: Command): void {
  const transfer = program.command('transfer').description('transfers: one data file sent by one trigger');

  transfer
    .command('list')
    .description('list transfers, newest first')
    .option('--since <date>', 'received on or after this day (YYYY-MM-DD, Danish time) or instant (ISO 8601)')
    .addOption(new Option('--status <status>', 'only in this state').choices(TRANSFER_STATES))
    .option('--sender <system>', 'only from this system')
    .option('--recipient <system>', 'only to this system')
    .option('--limit <n>', 'at most this many', '1000')
    .action(
      action(async (ctx, opts: { since?: string; status?: string; sender?: string; recipient?: string; limit: string }) => {
        const { listTransfers } = await import('../../router/sql/list-transfers.js');
        if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since))) {
          throw new UsageError(`--since ${JSON.stringify(opts.since)} is not a date; give YYYY-MM-DD or an ISO 8601 time`);
        }
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${JSON.stringify(opts.limit)} is not a whole number ≥ 1`);
        const db = await ctx.db();
        const rows = await listTransfers(db.pool, { ...opts, limit });
        ctx.out.result(rows, () =>
          table(
            rows,
            [
              { header: 'FILETRANSFERUUID', value: (r) => r.id },
              { header: 'RECEIVED', value: (r) => r.receivedAt },
              { header: 'STATUS', value: (r) => r.status },
              { header: 'CODE', value: (r) => r.errorCode },
              { header: 'SENDER', value: (r) => r.sender },
              { header: 'RECIPIENTS', value: (r) => r.recipients.join(', ') },
              { header: 'FILE', value: (r) => r.fileName },
              { header: 'BYTES', value: (r) => r.sizeBytes, align: 'right' },
            ],
            'No transfers match.',
          ),
        );
      }),
    );

  transfer
    .command('show <FileTransferUUID>')
    .description('one transfer: every step with its time, the deliveries, the receipt and the audit trail')
    .action(
      action(async (ctx, id: string) => {
        const { auditTrail } = await import('../../audit/audit.js');
        const { findTransfer } = await import('../../router/sql/find-transfer.js');
        const { deliveryStates } = await import('../../deliveries/delivery-states.js');
        const { transferSteps } = await import('../../router/sql/transfer-steps.js');
        const db = await ctx.db();
        const t = await findTransfer(db.pool, id);
        if (!t) throw new RefusedError(`No transfer ${id}; 'filudveksling transfer list' shows the transfers`);
        const [steps, deliveries, trail] = await Promise.all([transferSteps(db.pool, t.id), deliveryStates(db.pool, t.id), auditTrail(db.pool, 'transfer', t.id)]);
        const data = {
          id: t.id,
          status: t.status,
          sender: t.senderUsername,
          trigger: t.triggerName,
          fileName: t.fileName,
          sendersFileId: t.sendersFileId,
          sizeBytes: t.sizeBytes,
          sha256: t.sha256,
          errorCode: t.errorCode,
          errorText: t.errorText,
          resendOf: t.resendOf,
          receivedAt: t.receivedAt,
          finishedAt: t.finishedAt,
          retries: t.retries,
          steps,
          deliveries,
          receipt: t.receiptXml,
          audit: trail,
        };
        ctx.out.result(data, () =>
          [
            `Transfer ${t.id}: ${t.status}${t.errorCode ? ` (${t.errorCode}: ${t.errorText})` : ''}`,
            `Sender ${t.senderUsername}, trigger ${t.triggerName}, file ${t.fileName ?? '-'} (${t.sizeBytes ?? '-'} bytes, SHA-256 ${t.sha256 ?? '-'})`,
            t.sendersFileId ? `SendersFileId ${t.sendersFileId}` : '',
            t.resendOf ? `Resend of ${t.resendOf}` : '',
            '',
            'Steps:',
            table(steps, [
              { header: 'AT', value: (s) => s.at.toISOString() },
              { header: 'STEP', value: (s) => s.step },
              { header: 'DETAIL', value: (s) => (s.detail ? JSON.stringify(s.detail) : '') },
            ]),
            '',
            'Deliveries:',
            table(
              deliveries,
              [
                { header: 'RECIPIENT', value: (d) => d.recipient },
                { header: 'STATUS', value: (d) => d.status },
                { header: 'DELIVERED AS', value: (d) => (d.deliveredName ? (d.folder ? `IN/${d.folder}/${d.deliveredName}` : `IN/${d.deliveredName}`) : null) },
                { header: 'PLACED', value: (d) => d.placedAt?.toISOString() ?? null },
                { header: 'FETCHED', value: (d) => (d.fetchedAt ? `${d.fetchedAt.toISOString()} (${d.fetchedByNode})` : null) },
                { header: 'DELETED', value: (d) => (d.deletedAt ? `${d.deletedAt.toISOString()} (${d.deletedByNode})` : null) },
              ],
              'None.',
            ),
            '',
            'Receipt:',
            t.receiptXml ?? '(none yet)',
            'Audit trail:',
            table(trail, [
              { header: 'AT', value: (a) => a.at.toISOString() },
              { header: 'ACTOR', value: (a) => a.actor },
              { header: 'ACTION', value: (a) => a.action },
            ]),
          ]
            .filter((l, i, all) => l !== '' || all[i - 1] !== '')
            .join('\n'),
        );
      }),
    );

  transfer
    .command('retry <FileTransferUUID>')
    .description('run a failed transfer again (its DELIVERY_FAILED receipt is replaced when it succeeds)')
    .action(
      action(async (ctx, id: string) => {
        const { retryTransfer } = await import('../../router/retry-transfer.js');
        const { openRoutingQueue, queueBackend, retryPolicy } = await import('../../router/routing-queue.js');
        const db = await ctx.db();
        // BullMQ only once there is something to queue.
        const queue: { open?: RoutingQueue } = {};
        let r;
        try {
          r = await retryTransfer(db.pool, () => (queue.open ??= openRoutingQueue(queueBackend(ctx.config, db.url), retryPolicy(ctx.config))), id, ctx.by);
        } finally {
          await queue.open?.close();
        }
        ctx.out.result(r, `Transfer ${r.id} is queued again (from ${r.status}); 'filudveksling transfer show ${r.id}' follows it.`);
      }),
    );
}
