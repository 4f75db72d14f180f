import type { FastifyInstance } from 'fastify';
import type { Pool } from '../../db/pool.js';
import { decideDeclaration, readDeclarationDocument, receiveDeclarationDocument } from '../../infref/declaration.js';
import { listInfRefs, showInfRef, type InfRefDetails } from '../../infref/list-infrefs.js';
import type { InfRefRow } from '../../infref/require-infref.js';
import { listSystems } from '../../systems/list-systems.js';
import { doneKey, field, NotFoundPage, personOf, problemOf, redirectDone, renderPage, scopeOf, type Person } from './page-kit.js';
import { uploaded } from './uploads.js';

/**
 * InfRefs (SPEC §11): a vendor-admin uploads the GDPR declaration document of its own InfRef
 * version (recorded as received); an operator reads the document and approves or rejects it.
 */
const DONE = ['uploaded', 'approved', 'rejected'] as const;

export async function infrefsPages(app: FastifyInstance, opts: { pool: Pool }): Promise<void> {
  const { pool } = opts;

  app.get('/infrefs', async (request, reply) => {
    const rows = await visibleInfRefs(pool, personOf(request));
    return renderPage(request, reply, 'infrefs', { rows, done: doneKey(request, DONE) });
  });

  app.get<{ Params: { name: string } }>('/infrefs/:name', async (request, reply) => {
    const person = personOf(request);
    const i = await visibleInfRef(pool, person, request.params.name);
    return renderPage(request, reply, 'infref', { i, ...actions(person, i), done: doneKey(request, DONE) });
  });

  app.post<{ Params: { name: string } }>('/infrefs/:name/declaration', async (request, reply) => {
    const person = personOf(request);
    const i = await visibleInfRef(pool, person, request.params.name);
    if (!actions(person, i).canUpload) throw new NotFoundPage();
    const doc = await uploaded(request.body, 'document');
    try {
      if (!doc) return renderPage(request, reply, 'infref', { i, ...actions(person, i), problemKey: 'infrefs.problem.document' }, 400);
      await receiveDeclarationDocument(pool, i.name, { name: doc.filename ?? 'erklaering', contentType: doc.mimetype, data: doc.data }, person.email);
    } catch (err) {
      return renderPage(request, reply, 'infref', { i, ...actions(person, i), problem: problemOf(err) }, 409);
    }
    return redirectDone(reply, `/infrefs/${i.name}`, 'uploaded');
  });

  for (const decision of ['approve', 'reject'] as const) {
    app.post<{ Params: { name: string } }>(`/infrefs/:name/declaration/${decision}`, async (request, reply) => {
      const person = personOf(request);
      const i = await visibleInfRef(pool, person, request.params.name);
      if (!actions(person, i).canDecide) throw new NotFoundPage();
      const reason = field(request.body, 'reason');
      if (decision === 'reject' && !reason) return renderPage(request, reply, 'infref', { i, ...actions(person, i), problemKey: 'agreements.problem.reason' }, 400);
      try {
        await decideDeclaration(pool, i.name, decision, reason || undefined, person.email);
      } catch (err) {
        return renderPage(request, reply, 'infref', { i, ...actions(person, i), problem: problemOf(err) }, 409);
      }
      return redirectDone(reply, `/infrefs/${i.name}`, decision === 'approve' ? 'approved' : 'rejected');
    });
  }

  /** The declaration document, for operators only (SPEC §11), as an attachment, never shown inline. */
  app.get<{ Params: { name: string } }>('/infrefs/:name/declaration/document', async (request, reply) => {
    const person = personOf(request);
    if (person.role !== 'operator') throw new NotFoundPage();
    const i = await visibleInfRef(pool, person, request.params.name);
    const doc = await readDeclarationDocument(pool, i.name).catch(() => undefined);
    if (!doc) throw new NotFoundPage();
    const ascii = doc.name.replace(/[^\x20-\x7e]|["\\]/g, '_');
    return reply
      .header('content-type', 'application/octet-stream')
      .header('x-content-type-options', 'nosniff')
      .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(doc.name)}`)
      .send(doc.data);
  });
}

function actions(person: Person, i: InfRefDetails) {
  const open = i.status === 'active';
  const declaration = i.declaration?.status;
  return {
    canUpload: person.role === 'vendor-admin' && open && declaration !== 'pending' && declaration !== 'approved',
    canDecide: person.role === 'operator' && open && declaration === 'pending',
    canRead: person.role === 'operator' && Boolean(i.declaration?.documentName),
  };
}

async function visibleInfRefs(pool: Pool, person: Person): Promise<InfRefRow[]> {
  const scope = scopeOf(person);
  if (scope.kind === 'authority') throw new NotFoundPage();
  const all = await listInfRefs(pool);
  if (scope.kind === 'all') return all;
  const mine = new Set((await listSystems(pool, { vendor: person.vendor })).map((s) => s.username));
  return all.filter((i) => mine.has(i.owner));
}

async function visibleInfRef(pool: Pool, person: Person, name: string): Promise<InfRefDetails> {
  const visible = (await visibleInfRefs(pool, person)).find((i) => i.name === name);
  if (!visible) throw new NotFoundPage();
  return showInfRef(pool, visible.name);
}
