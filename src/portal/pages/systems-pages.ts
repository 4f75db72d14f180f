import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import type { Pool } from '../../db/pool.js';
import { listRoutes } from '../../routes/list-routes.js';
import { loadHostKeys } from '../../sftp/host-keys.js';
import { findSystemByUsername } from '../../systems/find-system.js';
import { listSystems, showSystem, type SystemDetails } from '../../systems/list-systems.js';
import { registerSystem } from '../../systems/register-system.js';
import { setSystemEnabled } from '../../systems/set-system-enabled.js';
import { parsePublicKey } from '../../systems/ssh-public-key.js';
import { addSystemKey, removeSystemKey } from '../../systems/system-keys.js';
import { USERNAME_MAX_LENGTH } from '../../systems/username.js';
import { VENDOR_NAME_MAX_LENGTH } from '../../vendors/add-vendor.js';
import { listVendors } from '../../vendors/find-vendor.js';
import { requireLogin } from '../authenticate.js';
import { authorize, personOf } from '../authorize.js';
import { can } from '../can.js';
import { Problem } from '../problem.js';
import { connectionGuide, routeNames } from './connection-guide.js';
import { badFields, choice, doneKey, doneQuery, field, formFields, pageSchema, problemOf, redirectDone, renderPage, scopeFilter, text, type Person, type Shown } from './page-kit.js';
import { uploadedFileSchema, type OversizedFile } from '../security.js';
import { uploadForm } from './uploads.js';

/**
 * It-systemer (SPEC §11): a vendor-admin registers its systems (user name, optional UUID, SSH
 * public key pasted or uploaded, inbox layout, metadata shape), adds and removes keys, disables and
 * enables them; each system's page shows how to connect. Operators see them all and do the same for
 * any vendor, which they name when registering.
 */
const DONE = ['registered', 'key-added', 'key-removed', 'disabled', 'enabled'] as const;

const LABELS = {
  username: 'systems.field.username',
  uuid: 'systems.field.uuid',
  sshPublicKey: 'systems.field.key',
  keyFile: 'systems.field.keyfile',
  inbox: 'systems.field.inbox',
  metadata: 'systems.field.metadata',
  fingerprint: 'systems.key.fingerprint',
  vendor: 'systems.field.vendor',
} as const;
const usernameParams = { type: 'object', properties: { username: text(USERNAME_MAX_LENGTH) }, required: ['username'] } as const;
/** A pasted key is one line (a few kB for the largest RSA keys); a key file comes as an upload. */
const keyFields = { sshPublicKey: text(16_384), keyFile: { anyOf: [uploadedFileSchema, { type: 'string', maxLength: 0 }] } } as const;
const registerBody = {
  type: 'object',
  properties: { ...formFields, ...keyFields, username: text(USERNAME_MAX_LENGTH), uuid: text(36), inbox: choice(['per-authority', 'flat']), metadata: choice(['file-metadata', 'legacy']), vendor: text(VENDOR_NAME_MAX_LENGTH) },
} as const;
const keyBody = { type: 'object', properties: { ...formFields, ...keyFields } } as const;
const removeKeyBody = { type: 'object', properties: { ...formFields, fingerprint: text(200) } } as const;
const plainBody = { type: 'object', properties: formFields } as const;

export async function systemsPages(app: FastifyInstance): Promise<void> {
  const { pool, config } = app.portal;

  app.get('/systems', { preHandler: requireLogin, ...pageSchema({ querystring: doneQuery }) }, async (request, reply) => {
    const person = vendorSide(personOf(request));
    const rows = await listSystems(pool, { vendorId: scopeFilter(person).vendorId });
    return renderPage(request, reply, 'systems', 'systems.title', { rows, canRegister: mayRegister(person), done: doneKey(request, DONE) });
  });

  /** The register form; an operator also chooses the vendor (a vendor-admin registers for its own). */
  const registerPage = async (request: FastifyRequest, reply: FastifyReply, extra: { chosen: Record<string, string>; problem?: Shown; problemKey?: string; problems?: string[] }, status = 200) => {
    const vendors = personOf(request).vendor ? undefined : await listVendors(pool);
    return renderPage(request, reply, 'system-register', 'systems.register', { vendors, ...extra }, status);
  };

  app.get('/systems/new', { preHandler: requireLogin, ...pageSchema({ querystring: doneQuery }) }, async (request, reply) => {
    authorize(personOf(request), 'system.manage');
    return registerPage(request, reply, { chosen: {} });
  });

  app.post('/systems/new', { preHandler: requireLogin, ...pageSchema({ body: registerBody }) }, async (request, reply) => {
    const person = personOf(request);
    authorize(person, 'system.manage');
    const form = uploadForm(request, 'keyFile');
    const f = (name: string) => (form.fields[name] ?? '').trim();
    const chosen = { username: f('username'), uuid: f('uuid'), sshPublicKey: f('sshPublicKey'), inbox: f('inbox'), metadata: f('metadata'), vendor: f('vendor') };
    const vendor = person.vendor?.name ?? chosen.vendor;
    const problems = badFields(request, LABELS);
    if (problems.length === 0 && !vendor) problems.push(request.t('form.bad.required', { label: request.t(LABELS.vendor) }));
    if (problems.length > 0) return registerPage(request, reply, { chosen, problems }, 400);
    if (form.oversized && !chosen.sshPublicKey) return registerPage(request, reply, { chosen, problem: keyFileTooBig(request, form.oversized) }, 413);
    const keyText = chosen.sshPublicKey || form.file?.data.toString('utf8') || '';
    if (!keyText.trim()) return registerPage(request, reply, { chosen, problemKey: 'systems.problem.key' }, 400);
    try {
      const key = parsePublicKey(keyText, form.file && !chosen.sshPublicKey ? form.file.filename : 'the pasted key');
      const s = await registerSystem(
        pool,
        { username: chosen.username, vendor, key, uuid: chosen.uuid || undefined, inbox: chosen.inbox || undefined, metadata: chosen.metadata || undefined },
        { by: person.email, dataDir: config.dataDir },
      );
      return redirectDone(reply, systemPath(s.username), 'registered');
    } catch (err) {
      const { problem, status } = problemOf(request, err);
      return registerPage(request, reply, { chosen, problem }, status);
    }
  });

  app.get<{ Params: { username: string } }>('/systems/:username', { preHandler: requireLogin, ...pageSchema({ params: usernameParams }) }, async (request, reply) => {
    badFields(request);
    const person = personOf(request);
    const s = await visibleSystem(pool, person, request.params.username);
    return showSystemPage(request, reply, s, { done: doneKey(request, DONE) });
  });

  app.post<{ Params: { username: string } }>('/systems/:username/keys', { preHandler: requireLogin, ...pageSchema({ params: usernameParams, body: keyBody }) }, async (request, reply) => {
    const person = personOf(request);
    const problems = badFields(request, LABELS);
    const s = await changeableSystem(pool, person, request.params.username);
    if (problems.length > 0) return showSystemPage(request, reply, s, { problems, status: 400 });
    const form = uploadForm(request, 'keyFile');
    if (form.oversized && !form.fields.sshPublicKey?.trim()) return showSystemPage(request, reply, s, { problem: keyFileTooBig(request, form.oversized), status: 413 });
    const keyText = (form.fields.sshPublicKey ?? '').trim() || form.file?.data.toString('utf8') || '';
    try {
      await addSystemKey(pool, s.username, parsePublicKey(keyText, form.file && !form.fields.sshPublicKey?.trim() ? form.file.filename : 'the pasted key'), person.email);
    } catch (err) {
      return showSystemPage(request, reply, s, problemOf(request, err));
    }
    return redirectDone(reply, systemPath(s.username), 'key-added');
  });

  app.post<{ Params: { username: string } }>('/systems/:username/keys/remove', { preHandler: requireLogin, ...pageSchema({ params: usernameParams, body: removeKeyBody }) }, async (request, reply) => {
    const person = personOf(request);
    const problems = badFields(request, LABELS);
    const s = await changeableSystem(pool, person, request.params.username);
    if (problems.length > 0) return showSystemPage(request, reply, s, { problems, status: 400 });
    try {
      await removeSystemKey(pool, s.username, field(request.body, 'fingerprint'), person.email);
    } catch (err) {
      return showSystemPage(request, reply, s, problemOf(request, err));
    }
    return redirectDone(reply, systemPath(s.username), 'key-removed');
  });

  for (const [action, enabled] of [['disable', false], ['enable', true]] as const) {
    app.post<{ Params: { username: string } }>(`/systems/:username/${action}`, { preHandler: requireLogin, ...pageSchema({ params: usernameParams, body: plainBody }) }, async (request, reply) => {
      badFields(request);
      const person = personOf(request);
      const s = await changeableSystem(pool, person, request.params.username);
      try {
        await setSystemEnabled(pool, s.username, enabled, person.email);
      } catch (err) {
        return showSystemPage(request, reply, s, problemOf(request, err));
      }
      return redirectDone(reply, systemPath(s.username), enabled ? 'enabled' : 'disabled');
    });
  }

  async function showSystemPage(request: FastifyRequest, reply: FastifyReply, system: SystemDetails, extra: { done?: string; problem?: Shown; problems?: string[]; status?: number }) {
    const s = await showSystem(pool, system.username);
    const [outgoing, incomingRoutes] = await Promise.all([listRoutes(pool, { sender: s.username }), listRoutes(pool, { recipient: s.username })]);
    const guide = connectionGuide(config, s, outgoing, await hostKeys(config));
    // The routes that deliver to this system: which InfRefs, from whom and for which authority it receives.
    const incoming = incomingRoutes.map((r) => ({ ...routeNames(r), sender: r.sender }));
    const canChange = can(personOf(request), 'system.manage', { vendorId: s.vendorId }) === 'allowed';
    return renderPage(request, reply, 'system', 'systems.title', { s, guide, incoming, canChange, done: extra.done, problem: extra.problem, problems: extra.problems }, extra.status ?? 200);
  }
}

export const systemPath = (username: string) => `/systems/${encodeURIComponent(username)}`;

/** Systems are the vendors' (and the operators'): an authority has no such page. */
function vendorSide(person: Person): Person {
  authorize(person, 'read');
  if (person.authority) throw new Problem(404, 'No such page.');
  return person;
}

/** A vendor-admin (for its own vendor) or an operator (for any): an authority's people never. */
const mayRegister = (person: Person) => can(person, 'system.manage') === 'allowed';

/** The server's host keys, for the fingerprints to pin (made at serve's first start; the same on every node). */
function hostKeys(config: Config) {
  return loadHostKeys(join(config.dataDir, 'hostkeys'));
}

/** The system if this person may see it; 404 otherwise, also for names that do not exist. */
async function visibleSystem(pool: Pool, person: Person, username: string): Promise<SystemDetails> {
  vendorSide(person);
  const found = await findSystemByUsername(pool, username);
  if (!found) throw new Problem(404, 'No such system.');
  authorize(person, 'read', { vendorId: found.vendorId });
  return showSystem(pool, found.username);
}

async function changeableSystem(pool: Pool, person: Person, username: string): Promise<SystemDetails> {
  const s = await visibleSystem(pool, person, username);
  authorize(person, 'system.manage', { vendorId: s.vendorId });
  return s;
}

/** A key file over the upload limit (cut at 20 MiB, security.ts): surely not the public key, which is one line. */
function keyFileTooBig(request: FastifyRequest, file: OversizedFile): Shown {
  return { text: request.t('systems.problem.key-file-too-big', { name: file.filename }) };
}
