import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from '../../db/pool.js';
import { decideDeclaration, readDeclarationDocument, receiveDeclarationDocument } from '../../infref/declaration.js';
import { documentTooBig } from '../../infref/declaration-document.js';
import { listInfRefs, showInfRef, type InfRefDetails } from '../../infref/list-infrefs.js';
import { parseInfRef } from '../../infref/infref-name.js';
import { requireLogin } from '../authenticate.js';
import { authorize, personOf } from '../authorize.js';
import { can } from '../can.js';
import { Problem } from '../problem.js';
import { badFields, doneKey, doneQuery, field, formFields, pageSchema, problemOf, redirectDone, renderPage, scopeFilter, text, type Person, type Shown } from './page-kit.js';
import { uploadedFileSchema } from '../security.js';
import { uploadForm } from './uploads.js';
import { REASON_MAX_LENGTH } from '../../agreements/agreements.js';

/**
 * InfRefs (SPEC §11): a vendor-admin uploads the GDPR declaration document of its own InfRef
 * version (recorded as received); an operator may record one too (SPEC §1: operators record
 * declarations), reads the document and approves or rejects it.
 */
const DONE = ['uploaded', 'approved', 'rejected'] as const;

const LABELS = { document: 'infrefs.field.document', reason: 'agreements.reason' } as const;
const nameParams = { type: 'object', properties: { name: text(120) }, required: ['name'] } as const;
const documentBody = { type: 'object', properties: { ...formFields, document: { anyOf: [uploadedFileSchema, { type: 'string', maxLength: 0 }] } } } as const;
const decisionBody = { type: 'object', properties: { ...formFields, reason: text(REASON_MAX_LENGTH) } } as const;

export async function infrefsPages(app: FastifyInstance): Promise<void> {
  const { pool } = app.portal;

  app.get('/infrefs', { preHandler: requireLogin, ...pageSchema({ querystring: doneQuery }) }, async (request, reply) => {
    const person = vendorSide(personOf(request));
    const rows = await listInfRefs(pool, { vendorId: scopeFilter(person).vendorId });
    return renderPage(request, reply, 'infrefs', 'infrefs.title', { rows, done: doneKey(request, DONE) });
  });

  app.get<{ Params: { name: string } }>('/infrefs/:name', { preHandler: requireLogin, ...pageSchema({ params: nameParams }) }, async (request, reply) => {
    badFields(request);
    const i = await visibleInfRef(pool, personOf(request), request.params.name);
    return show(request, reply, i, { done: doneKey(request, DONE) });
  });

  app.post<{ Params: { name: string } }>('/infrefs/:name/declaration', { preHandler: requireLogin, ...pageSchema({ params: nameParams, body: documentBody }) }, async (request, reply) => {
    const person = personOf(request);
    const problems = badFields(request, LABELS);
    const i = await visibleInfRef(pool, person, request.params.name);
    authorize(person, 'declaration.upload', { vendorId: i.ownerVendorId });
    if (problems.length > 0) return show(request, reply, i, { problems, status: 400 });
    const form = uploadForm(request, 'document');
    // Cut at 20 MiB by the upload limit: the domain's refusal (413) with the file's name, nothing stored.
    if (form.oversized) return show(request, reply, i, problemOf(request, documentTooBig(form.oversized.filename)));
    if (!form.file) return show(request, reply, i, { problemKey: 'infrefs.problem.document', status: 400 });
    try {
      await receiveDeclarationDocument(pool, i.name, { name: form.file.filename, contentType: form.file.mimetype, data: form.file.data }, person.email);
    } catch (err) {
      return show(request, reply, i, problemOf(request, err));
    }
    return redirectDone(reply, `/infrefs/${i.name}`, 'uploaded');
  });

  for (const decision of ['approve', 'reject'] as const) {
    app.post<{ Params: { name: string } }>(`/infrefs/:name/declaration/${decision}`, { preHandler: requireLogin, ...pageSchema({ params: nameParams, body: decisionBody }) }, async (request, reply) => {
      const person = personOf(request);
      const problems = badFields(request, LABELS);
      const i = await visibleInfRef(pool, person, request.params.name);
      authorize(person, 'operate');
      if (problems.length > 0) return show(request, reply, i, { problems, status: 400 });
      const reason = field(request.body, 'reason');
      if (decision === 'reject' && !reason) return show(request, reply, i, { problemKey: 'agreements.problem.reason', status: 400 });
      try {
        await decideDeclaration(pool, i.name, decision, reason || undefined, person.email);
      } catch (err) {
        return show(request, reply, i, problemOf(request, err));
      }
      return redirectDone(reply, `/infrefs/${i.name}`, decision === 'approve' ? 'approved' : 'rejected');
    });
  }

  /** The declaration document, for operators only (SPEC §11), as an attachment, never shown inline. */
  app.get<{ Params: { name: string } }>('/infrefs/:name/declaration/document', { preHandler: requireLogin, ...pageSchema({ params: nameParams }) }, async (request, reply) => {
    badFields(request);
    const person = personOf(request);
    const i = await visibleInfRef(pool, person, request.params.name);
    authorize(person, 'operate');
    const doc = await readDeclarationDocument(pool, i.name).catch(() => undefined);
    if (!doc) throw new Problem(404, `The declaration for ${i.name} has no document.`);
    const ascii = doc.name.replace(/[^\x20-\x7e]|["\\]/g, '_');
    return reply
      .header('content-type', 'application/octet-stream')
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(doc.name)}`)
      .send(doc.data);
  });

  function show(request: FastifyRequest, reply: FastifyReply, i: InfRefDetails, extra: { done?: string; problem?: Shown; problemKey?: string; problems?: string[]; status?: number }) {
    const person = personOf(request);
    const open = i.status === 'active';
    const declaration = i.declaration?.status;
    const actions = {
      canUpload: can(person, 'declaration.upload', { vendorId: i.ownerVendorId }) === 'allowed' && open && declaration !== 'pending' && declaration !== 'approved',
      canDecide: can(person, 'operate') === 'allowed' && open && declaration === 'pending',
      canRead: can(person, 'operate') === 'allowed' && Boolean(i.declaration?.documentName),
    };
    const { status, ...rest } = extra;
    return renderPage(request, reply, 'infref', 'infrefs.title', { i, ...actions, ...rest }, status ?? 200);
  }
}

/** InfRefs are the vendors' (and the operators'): an authority has no such page. */
function vendorSide(person: Person): Person {
  authorize(person, 'read');
  if (person.authority) throw new Problem(404, 'No such page.');
  return person;
}

async function visibleInfRef(pool: Pool, person: Person, name: string): Promise<InfRefDetails> {
  vendorSide(person);
  if (!parseInfRef(name)) throw new Problem(404, 'No such InfRef.');
  const i = await showInfRef(pool, name).catch(() => undefined);
  if (!i) throw new Problem(404, 'No such InfRef.');
  authorize(person, 'read', { vendorId: i.ownerVendorId });
  return i;
}
