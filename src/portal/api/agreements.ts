import type { FastifyInstance } from 'fastify';
import {
  ALL_MUNICIPALITIES,
  REASON_MAX_LENGTH,
  AGREEMENT_STATES,
  changeAgreement,
  findAgreement,
  listAgreements,
  requestAgreements,
  type AgreementAction,
  type AgreementRow,
} from '../../agreements/agreements.js';
import { findSystemByUsername } from '../../systems/find-system.js';
import { authorize, personOf } from '../authorize.js';
import { scopeOf, type Scope } from '../can.js';
import { Problem, problemResponses } from '../problem.js';
import { asBadField, authorityOf, dayPattern, listLimit, namingFields, pageQuery } from './api-kit.js';
import { USERNAME_MAX_LENGTH } from '../../systems/username.js';

const agreementSchema = {
  $id: 'Agreement',
  type: 'object',
  description: 'A service agreement (serviceaftale): an authority lets a system use the send or fetch service',
  properties: {
    id: { type: 'integer' },
    system: { type: 'string' },
    vendor: { type: 'string' },
    service: { enum: ['send', 'fetch'] },
    authority: { $ref: 'Authority#' },
    status: { enum: [...AGREEMENT_STATES] },
    reason: { type: 'string' },
    requestedAt: { type: 'string' },
    decidedAt: { type: 'string', description: 'when it was approved, rejected, withdrawn or terminated' },
    decidedBy: { type: 'string' },
    effective: { type: 'string', description: 'terminated: the first day it no longer counts' },
  },
  required: ['id', 'system', 'vendor', 'service', 'authority', 'status', 'requestedAt'],
} as const;

/** SPEC §11's shape of an agreement. */
export function agreementOut(a: AgreementRow) {
  const decidedBy = a.terminatedBy ?? a.decidedBy;
  const decidedAt = a.terminatedAt ?? a.decidedAt;
  return {
    id: a.id,
    system: a.system,
    vendor: a.vendor,
    service: a.service,
    authority: authorityOf({ cvr: a.cvr, kommunekode: a.kommunekode, name: a.authority }),
    status: a.status,
    ...(a.reason ? { reason: a.reason } : {}),
    requestedAt: a.requestedAt.toISOString(),
    ...(decidedAt ? { decidedAt: decidedAt.toISOString() } : {}),
    ...(decidedBy ? { decidedBy } : {}),
    ...(a.effective ? { effective: a.effective } : {}),
  };
}

const idParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' } }, required: ['id'] } as const;
const reasonText = { type: 'string', minLength: 1, maxLength: REASON_MAX_LENGTH, pattern: '\\S' } as const;
const ACTION_BODIES: Record<AgreementAction, object | undefined> = {
  approve: { type: 'object', additionalProperties: false, properties: { reason: reasonText } },
  reject: { type: 'object', additionalProperties: false, properties: { reason: reasonText }, required: ['reason'] },
  terminate: {
    type: 'object',
    additionalProperties: false,
    properties: { reason: reasonText, effective: { type: 'string', pattern: dayPattern, description: 'YYYY-MM-DD, today or later (default today)' } },
    required: ['reason'],
  },
  withdraw: undefined,
};
/** The lifecycle's refusals of a value in the body, by the field they are about. */
const ACTION_FIELDS = { 'agreement-effective-past': 'effective', 'day-invalid': 'effective', 'reason-missing': 'reason', 'reason-too-long': 'reason' } as const;
const SUMMARIES: Record<AgreementAction, string> = {
  approve: 'Approve a requested agreement (authority-admin)',
  reject: 'Reject a requested agreement, with a reason (authority-admin)',
  terminate: 'Terminate (opsig) an approved agreement from an effective day (authority-admin)',
  withdraw: 'Withdraw a request still pending (vendor-admin)',
};

/** /agreements: list within scope, request (one or more authorities, or all municipalities), and the lifecycle's steps. */
export async function agreementsApi(app: FastifyInstance): Promise<void> {
  const { pool } = app.portal;
  app.addSchema(agreementSchema);

  app.get<{ Querystring: { status?: string; system?: string; authority?: string; limit?: number; after?: number } }>(
    '/agreements',
    {
      schema: {
        summary: 'Agreements within your scope, oldest first (keyset paging: after = the last id)',
        tags: ['agreements'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { enum: [...AGREEMENT_STATES] },
            system: { type: 'string', minLength: 1, maxLength: USERNAME_MAX_LENGTH },
            authority: { type: 'string', pattern: '^[0-9]{3,4}$|^[0-9]{8}$', description: 'kommunekode or CVR' },
            ...pageQuery,
            after: { type: 'integer', minimum: 0, maximum: 2_147_483_647, description: 'the id of the last agreement seen' },
          },
        },
        response: { 200: { type: 'array', items: { $ref: 'Agreement#' } }, ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const scope = scopeOf(personOf(request));
      const q = request.query;
      // A system outside the scope is answered as one with no agreements, as if it did not exist.
      if (q.system !== undefined && !(await systemInScope(q.system, scope))) return [];
      const rows = await asBadField('authority', () => listAgreements(pool, { ...q, ...scopeFilter(scope), limit: listLimit(q.limit) }));
      return rows.map(agreementOut);
    },
  );

  app.post<{ Body: { system: string; service: 'send' | 'fetch'; authorities: string[] | typeof ALL_MUNICIPALITIES } }>(
    '/agreements',
    {
      schema: {
        summary: 'Request the send or fetch service for a system from one or more authorities, or all municipalities (vendor-admin)',
        tags: ['agreements'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            system: { type: 'string', minLength: 1, maxLength: USERNAME_MAX_LENGTH },
            service: { enum: ['send', 'fetch'] },
            authorities: {
              // The string first: the API's ajv coerces a lone string into an array, so "all-municipalities" must match before that is tried.
              anyOf: [
                { const: ALL_MUNICIPALITIES },
                { type: 'array', minItems: 1, maxItems: 200, items: { type: 'string', pattern: '^[0-9]{3,4}$|^[0-9]{8}$' }, description: 'kommunekoder and CVR numbers' },
              ],
            },
          },
          required: ['system', 'service', 'authorities'],
        },
        response: { 201: { type: 'array', items: { $ref: 'Agreement#' } }, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const p = personOf(request);
      const system = await findSystemByUsername(pool, request.body.system);
      const unknown = `No system '${request.body.system}'.`;
      if (!system) throw new Problem(404, unknown);
      authorize(p, 'agreement.request', { vendorId: system.vendorId }, unknown);
      const made = await asBadField('authorities', () => requestAgreements(pool, request.body, p.email));
      return reply.code(201).send(made.map(agreementOut));
    },
  );

  for (const action of ['approve', 'reject', 'terminate', 'withdraw'] as const) {
    app.post<{ Params: { id: string }; Body: { reason?: string; effective?: string } | undefined }>(
      `/agreements/:id/${action}`,
      {
        schema: {
          summary: SUMMARIES[action],
          tags: ['agreements'],
          params: idParams,
          ...(ACTION_BODIES[action] ? { body: ACTION_BODIES[action] } : {}),
          response: { 200: { $ref: 'Agreement#' }, ...problemResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const p = personOf(request);
        const a = await findAgreement(pool, Number(request.params.id));
        const unknown = `No agreement ${request.params.id}.`;
        if (!a) throw new Problem(404, unknown);
        authorize(p, action === 'withdraw' ? 'agreement.request' : 'agreement.decide', { vendorId: a.vendorId, authorityId: a.authorityId }, unknown);
        const change = { reason: request.body?.reason, effective: request.body?.effective, now: app.portal.clock() };
        return agreementOut(await namingFields(ACTION_FIELDS, () => changeAgreement(pool, a.id, action, change, p.email)));
      },
    );
  }

  async function systemInScope(username: string, scope: Scope): Promise<boolean> {
    const system = await findSystemByUsername(pool, username);
    return Boolean(system) && (!('vendorId' in scope) || system!.vendorId === scope.vendorId);
  }
}

export function scopeFilter(scope: Scope): { vendorId?: number; authorityId?: number } {
  return 'all' in scope ? {} : scope;
}
