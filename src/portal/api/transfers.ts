import type { FastifyInstance } from 'fastify';
import { findTransfer } from '../../router/sql/find-transfer.js';
import { deliveryStates } from '../../deliveries/delivery-states.js';
import { transferSteps } from '../../router/sql/transfer-steps.js';
import { personOf } from '../authorize.js';
import { scopeOf } from '../can.js';
import { Problem, problemResponses } from '../problem.js';
import { transferInScope, transfersPage, type TransferScope } from '../sql/transfers-page.js';
import { dayPattern, eachField, listLimit, pageQuery } from './api-kit.js';
import { scopeFilter } from './agreements.js';
import { USERNAME_MAX_LENGTH } from '../../systems/username.js';
import { parseDay } from '../../routes/validity-day.js';

const TRANSFER_STATES = ['received', 'validated', 'delivering', 'delivered', 'rejected', 'resent', 'failed', 'expired'] as const;

const transferSchema = {
  $id: 'Transfer',
  type: 'object',
  description: 'One transfer (one data file sent by one trigger), identified by its FileTransferUUID',
  properties: {
    id: { type: 'string' },
    receivedAt: { type: 'string' },
    status: { enum: [...TRANSFER_STATES] },
    errorCode: { type: 'string' },
    sender: { type: 'string' },
    fileName: { type: 'string' },
    sizeBytes: { type: 'integer' },
    authority: { type: 'string' },
    recipients: { type: 'array', items: { type: 'string' } },
  },
  required: ['id', 'receivedAt', 'status', 'sender', 'recipients'],
} as const;

const transferDetailSchema = {
  $id: 'TransferDetail',
  type: 'object',
  properties: {
    ...transferSchema.properties,
    sendersFileId: { type: 'string' },
    sha256: { type: 'string' },
    errorText: { type: 'string' },
    finishedAt: { type: 'string' },
    steps: { type: 'array', items: { type: 'object', properties: { step: { type: 'string' }, at: { type: 'string' } }, required: ['step', 'at'] } },
    deliveries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          recipient: { type: 'string' },
          folder: { type: 'string' },
          status: { type: 'string' },
          deliveredName: { type: 'string' },
          placedAt: { type: 'string', description: 'when the file and its metadata were in the recipient\'s IN' },
          fetchedAt: { type: 'string', description: 'when the recipient first had read the whole file (SPEC §6)' },
          deletedAt: { type: 'string', description: 'when the recipient deleted it' },
        },
        required: ['recipient', 'status'],
      },
    },
    receipt: { type: 'string', description: 'the receipt XML the sender got' },
  },
  required: ['id', 'receivedAt', 'status', 'sender', 'steps', 'deliveries'],
} as const;

/** /transfers: those sent or received by a vendor's systems, or whose data is an authority's; newest first, keyset paging. */
export async function transfersApi(app: FastifyInstance): Promise<void> {
  const { pool } = app.portal;
  app.addSchema(transferSchema);
  app.addSchema(transferDetailSchema);

  app.get<{ Querystring: { since?: string; status?: string; system?: string; limit?: number; after?: string } }>('/transfers', {
    schema: {
      summary: 'Transfers within your scope, newest first. More pages: the Link header (rel="next") carries ?after=',
      tags: ['transfers'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          since: { type: 'string', pattern: dayPattern, description: 'YYYY-MM-DD: received on or after that day (Danish time)' },
          status: { enum: [...TRANSFER_STATES] },
          system: { type: 'string', minLength: 1, maxLength: USERNAME_MAX_LENGTH, description: 'sent or received by this system' },
          ...pageQuery,
          after: { type: 'string', pattern: '^[0-9]{1,17}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', description: 'the cursor from the previous page\'s Link header' },
        },
      },
      response: { 200: { type: 'array', items: { $ref: 'Transfer#' } }, ...problemResponses(400, 401) },
    },
  }, async (request, reply) => {
    const q = request.query;
    // A day the calendar lacks (2026-02-30) is refused as /usage refuses one: code day-invalid, the field named.
    if (q.since !== undefined) eachField({ since: () => parseDay(q.since!, 'since') });
    const scope: TransferScope = scopeFilter(scopeOf(personOf(request)));
    const limit = listLimit(q.limit);
    const page = await transfersPage(pool, { scope, status: q.status, system: q.system, since: q.since, after: q.after, limit });
    if (page.next) {
      const next = new URLSearchParams({ ...(q.since ? { since: q.since } : {}), ...(q.status ? { status: q.status } : {}), ...(q.system ? { system: q.system } : {}), limit: String(limit), after: page.next });
      reply.header('link', `</api/v1/transfers?${next}>; rel="next"`);
    }
    return page.rows.map((t) => ({
      id: t.id,
      receivedAt: t.receivedAt.toISOString(),
      status: t.status,
      ...(t.errorCode ? { errorCode: t.errorCode } : {}),
      sender: t.sender,
      ...(t.fileName ? { fileName: t.fileName } : {}),
      ...(t.sizeBytes !== null ? { sizeBytes: t.sizeBytes } : {}),
      ...(t.authority ? { authority: t.authority } : {}),
      recipients: t.recipients,
    }));
  });

  app.get<{ Params: { id: string } }>('/transfers/:id', {
    schema: {
      summary: 'One transfer: its steps, deliveries (per recipient) and receipt',
      tags: ['transfers'],
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
      response: { 200: { $ref: 'TransferDetail#' }, ...problemResponses(401, 404) },
    },
  }, async (request) => {
    const id = request.params.id.toLowerCase();
    const scope: TransferScope = scopeFilter(scopeOf(personOf(request)));
    const t = (await transferInScope(pool, scope, id)) ? await findTransfer(pool, id) : undefined;
    if (!t) throw new Problem(404, `No transfer ${request.params.id}.`);
    const [steps, deliveries] = await Promise.all([transferSteps(pool, t.id), deliveryStates(pool, t.id)]);
    const recipients = deliveries.map((d) => d.recipient);
    return {
      id: t.id,
      receivedAt: t.receivedAt.toISOString(),
      status: t.status,
      ...(t.errorCode ? { errorCode: t.errorCode } : {}),
      ...(t.errorText ? { errorText: t.errorText } : {}),
      sender: t.senderUsername,
      ...(t.fileName ? { fileName: t.fileName } : {}),
      ...(t.sendersFileId ? { sendersFileId: t.sendersFileId } : {}),
      ...(t.sizeBytes !== null ? { sizeBytes: t.sizeBytes } : {}),
      ...(t.sha256 ? { sha256: t.sha256 } : {}),
      ...(t.finishedAt ? { finishedAt: t.finishedAt.toISOString() } : {}),
      recipients,
      steps: steps.map((s) => ({ step: s.step, at: s.at.toISOString() })),
      deliveries: deliveries.map((d) => ({
        recipient: d.recipient,
        ...(d.folder ? { folder: d.folder } : {}),
        status: d.status,
        ...(d.deliveredName ? { deliveredName: d.deliveredName } : {}),
        ...(d.placedAt ? { placedAt: d.placedAt.toISOString() } : {}),
        ...(d.fetchedAt ? { fetchedAt: d.fetchedAt.toISOString() } : {}),
        ...(d.deletedAt ? { deletedAt: d.deletedAt.toISOString() } : {}),
      })),
      ...(t.receiptXml ? { receipt: t.receiptXml } : {}),
    };
  });
}
