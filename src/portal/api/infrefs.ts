import type { FastifyInstance } from 'fastify';
import { readDeclarationDocument, receiveDeclarationDocument, type DeclarationRow } from '../../infref/declaration.js';
import { documentTooBig } from '../../infref/declaration-document.js';
import { INFREF_PREFIX } from '../../infref/infref-name.js';
import { listInfRefsWithDeclarations, type InfRefWithDeclaration } from '../../infref/list-infrefs.js';
import { findInfRef, parseInfRefArg } from '../../infref/require-infref.js';
import { authorize, personOf } from '../authorize.js';
import { scopeOf } from '../can.js';
import { Problem, problemResponses } from '../problem.js';
import { isOversized, uploadedFileSchema, type OversizedFile, type UploadedFile } from '../security.js';
import { fieldProblem, listLimit, namingFields, pageQuery } from './api-kit.js';

const declarationSchema = {
  $id: 'Declaration',
  type: 'object',
  description: "An InfRef version's GDPR declaration (pending = received, awaiting the operator's decision)",
  properties: {
    status: { enum: ['pending', 'approved', 'rejected'] },
    reason: { type: 'string' },
    receivedAt: { type: 'string' },
    receivedBy: { type: 'string' },
    decidedAt: { type: 'string' },
    decidedBy: { type: 'string' },
    document: {
      type: 'object',
      properties: { name: { type: 'string' }, contentType: { type: 'string' }, size: { type: 'integer' }, sha256: { type: 'string' } },
      required: ['name', 'sha256'],
    },
  },
  required: ['status', 'receivedAt'],
} as const;

const infrefSchema = {
  $id: 'InfRef',
  type: 'object',
  description: 'One InfRef version: FagsystemdefineredeDataRefGDPR<n>_<v>, owned by a sending system',
  properties: {
    name: { type: 'string' },
    number: { type: 'integer' },
    version: { type: 'integer' },
    owner: { type: 'string' },
    title: { type: 'string' },
    status: { enum: ['active', 'revoked', 'superseded'] },
    declaration: { anyOf: [{ $ref: 'Declaration#' }, { type: 'null' }] },
  },
  required: ['name', 'number', 'version', 'owner', 'status', 'declaration'],
} as const;

type DeclarationFacts = Omit<DeclarationRow, 'infref'>;

function declarationOut(d: DeclarationFacts) {
  return {
    status: d.status,
    ...(d.reason ? { reason: d.reason } : {}),
    receivedAt: d.receivedAt.toISOString(),
    receivedBy: d.receivedBy,
    ...(d.decidedAt ? { decidedAt: d.decidedAt.toISOString() } : {}),
    ...(d.decidedBy ? { decidedBy: d.decidedBy } : {}),
    ...(d.documentName ? { document: { name: d.documentName, ...(d.documentType ? { contentType: d.documentType } : {}), ...(d.documentSize !== null ? { size: d.documentSize } : {}), sha256: d.documentSha256 } } : {}),
  };
}

function infrefOut(i: InfRefWithDeclaration) {
  return {
    name: i.name,
    number: i.number,
    version: i.version,
    owner: i.owner,
    ...(i.title ? { title: i.title } : {}),
    status: i.status,
    declaration: i.declaration ? declarationOut(i.declaration) : null,
  };
}

const infrefParams = { type: 'object', properties: { infref: { type: 'string', pattern: `^${INFREF_PREFIX}[1-9][0-9]{0,8}_[1-9][0-9]{0,8}$` } }, required: ['infref'] } as const;

/** The refusals of the uploaded document itself, named as its field. */
const DOCUMENT_FIELDS = { 'declaration-document-empty': 'document', 'declaration-document-too-big': 'document' } as const;

/** /infrefs: a vendor's InfRefs with their declarations; the declaration document's upload, and its download (operators). */
export async function infrefsApi(app: FastifyInstance): Promise<void> {
  const { pool } = app.portal;
  app.addSchema(declarationSchema);
  app.addSchema(infrefSchema);

  /** The InfRef version in the path, if the person may see it (404 otherwise). */
  const infrefFor = async (name: string) => {
    const found = await findInfRef(pool, parseInfRefArg(name));
    if (!found) throw new Problem(404, `No InfRef ${name}.`);
    return found;
  };

  app.get<{ Querystring: { limit?: number; after?: string } }>('/infrefs', {
    schema: {
      summary: "InfRefs within your scope (a vendor's systems' own), every version by number and version, with their declarations (keyset paging: after = the last InfRef)",
      tags: ['infrefs'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { ...pageQuery, after: { ...infrefParams.properties.infref, description: 'the last InfRef seen' } },
      },
      response: { 200: { type: 'array', items: { $ref: 'InfRef#' } }, ...problemResponses(400, 401) },
    },
  }, async (request) => {
    const scope = scopeOf(personOf(request));
    if ('authorityId' in scope) return [];
    const after = request.query.after === undefined ? undefined : parseInfRefArg(request.query.after);
    const rows = await listInfRefsWithDeclarations(pool, { ...('vendorId' in scope ? { vendorId: scope.vendorId } : {}), after, limit: listLimit(request.query.limit) });
    return rows.map(infrefOut);
  });

  app.post<{ Params: { infref: string }; Body: { document: UploadedFile | OversizedFile } }>('/infrefs/:infref/declaration', {
    schema: {
      summary: 'Upload the signed GDPR declaration of an InfRef version (multipart field "document", at most 20 MiB); recorded as received',
      tags: ['infrefs'],
      consumes: ['multipart/form-data'],
      params: infrefParams,
      body: { type: 'object', properties: { document: uploadedFileSchema }, required: ['document'] },
      response: { 201: { $ref: 'InfRef#' }, ...problemResponses(400, 401, 403, 404, 409, 413) },
    },
  }, async (request, reply) => {
    const p = personOf(request);
    const infref = await infrefFor(request.params.infref);
    authorize(p, 'declaration.upload', { vendorId: infref.ownerVendorId }, `No InfRef ${request.params.infref}.`);
    const doc = request.body.document;
    // Cut at 20 MiB by the upload limit: 413 with the domain's refusal (code, detail), naming the field.
    if (isOversized(doc)) throw fieldProblem('document', documentTooBig(doc.filename));
    if (!doc || !Buffer.isBuffer(doc.data)) throw new Problem(400, 'Send the declaration as a file in the multipart field "document".', [{ pointer: '#/document', field: 'document', detail: 'is not a file' }]);
    const d = await namingFields(DOCUMENT_FIELDS, () => receiveDeclarationDocument(pool, infref.name, { name: doc.filename, contentType: doc.mimetype, data: doc.data }, p.email));
    return reply.code(201).send(infrefOut({ ...infref, declarationStatus: d.status, declaration: d }));
  });

  app.get<{ Params: { infref: string } }>('/infrefs/:infref/declaration/document', {
    schema: {
      summary: 'The declaration document last received for an InfRef version (operators)',
      tags: ['infrefs'],
      params: infrefParams,
      produces: ['application/octet-stream'],
      response: { 200: { description: 'the document, as an attachment', type: 'string' }, ...problemResponses(401, 403, 404) },
    },
  }, async (request, reply) => {
    const p = personOf(request);
    const infref = await infrefFor(request.params.infref);
    authorize(p, 'operate', { vendorId: infref.ownerVendorId }, `No InfRef ${request.params.infref}.`);
    const doc = await readDeclarationDocument(pool, infref.name).catch(() => {
      throw new Problem(404, `The declaration of ${infref.name} has no document.`);
    });
    // Always an attachment, never shown in the portal's origin (it could be HTML).
    return reply
      .header('content-type', 'application/octet-stream') // never the uploader's type: an uploaded page must not render
      .header('content-disposition', `attachment; filename="${doc.name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(doc.name)}`)
      .header('x-content-type-options', 'nosniff')
      .send(doc.data);
  });
}
