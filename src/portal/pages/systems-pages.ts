import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import type { Pool } from '../../db/pool.js';
import { listRoutes } from '../../routes/list-routes.js';
import { loadHostKeys } from '../../sftp/host-keys.js';
import { listSystems, showSystem, type SystemDetails } from '../../systems/list-systems.js';
import { registerSystem } from '../../systems/register-system.js';
import { requireSystem } from '../../systems/require-system.js';
import { setSystemEnabled } from '../../systems/set-system-enabled.js';
import { parsePublicKey } from '../../systems/ssh-public-key.js';
import { addSystemKey, removeSystemKey } from '../../systems/system-keys.js';
import { join } from 'node:path';
import { connectionGuide } from './connection-guide.js';
import { doneKey, field, NotFoundPage, personOf, problemOf, redirectDone, renderPage, scopeOf, type Person } from './page-kit.js';
import { uploadedText } from './uploads.js';

/**
 * It-systemer (SPEC §11): a vendor-admin registers its systems (user name, optional UUID, SSH
 * public key pasted or uploaded, inbox layout, metadata shape), adds and removes keys, disables
 * and enables them; every system page shows how to connect. Operators see and do the same for all.
 */
const DONE = ['registered', 'key-added', 'key-removed', 'disabled', 'enabled'] as const;

export async function systemsPages(app: FastifyInstance, opts: { pool: Pool; config: Config }): Promise<void> {
  const { pool, config } = opts;

  app.get('/it-systemer', async (request, reply) => {
    const person = personOf(request);
    const scope = scopeOf(person);
    if (scope.kind === 'authority') throw new NotFoundPage();
    const rows = await listSystems(pool, scope.kind === 'vendor' ? { vendor: person.vendor } : {});
    return renderPage(request, reply, 'systems', { rows, canChange: mayChange(person), done: doneKey(request, DONE) });
  });

  app.get('/it-systemer/ny', async (request, reply) => {
    if (personOf(request).role !== 'vendor-admin') throw new NotFoundPage();
    return renderPage(request, reply, 'system-register', { chosen: { inbox: 'per-authority', metadata: 'file-metadata' } });
  });

  app.post('/it-systemer/ny', async (request, reply) => {
    const person = personOf(request);
    if (person.role !== 'vendor-admin') throw new NotFoundPage();
    const body = request.body;
    const chosen = { username: field(body, 'username'), uuid: field(body, 'uuid'), sshPublicKey: field(body, 'sshPublicKey'), inbox: field(body, 'inbox'), metadata: field(body, 'metadata') };
    const keyText = chosen.sshPublicKey || (await uploadedText(body, 'keyFile')) || '';
    if (!keyText.trim()) return renderPage(request, reply, 'system-register', { chosen, problemKey: 'systems.problem.key' }, 400);
    try {
      const key = parsePublicKey(keyText, 'the pasted key');
      const s = await registerSystem(
        pool,
        { username: chosen.username, vendor: person.vendor!, key, uuid: chosen.uuid || undefined, inbox: chosen.inbox || undefined, metadata: chosen.metadata || undefined },
        { by: person.email, dataDir: config.dataDir },
      );
      return redirectDone(reply, `/it-systemer/${encodeURIComponent(s.username)}`, 'registered');
    } catch (err) {
      return renderPage(request, reply, 'system-register', { chosen, problem: problemOf(err) }, 400);
    }
  });

  app.get<{ Params: { username: string } }>('/it-systemer/:username', async (request, reply) => {
    const person = personOf(request);
    const s = await visibleSystem(pool, person, request.params.username);
    const routes = await listRoutes(pool, { sender: s.username });
    const hostKeys = await loadHostKeys(join(config.dataDir, 'hostkeys'));
    const guide = connectionGuide(config, s, routes, hostKeys);
    return renderPage(request, reply, 'system', { s, guide, canChange: mayChange(person), done: doneKey(request, DONE) });
  });

  app.post<{ Params: { username: string } }>('/it-systemer/:username/keys', async (request, reply) => {
    const person = personOf(request);
    const s = await changeableSystem(pool, person, request.params.username);
    const keyText = field(request.body, 'sshPublicKey') || (await uploadedText(request.body, 'keyFile')) || '';
    try {
      await addSystemKey(pool, s.username, parsePublicKey(keyText, 'the pasted key'), person.email);
    } catch (err) {
      return showWithProblem(request, reply, s.username, problemOf(err));
    }
    return redirectDone(reply, `/it-systemer/${encodeURIComponent(s.username)}`, 'key-added');
  });

  app.post<{ Params: { username: string } }>('/it-systemer/:username/keys/remove', async (request, reply) => {
    const person = personOf(request);
    const s = await changeableSystem(pool, person, request.params.username);
    try {
      await removeSystemKey(pool, s.username, field(request.body, 'fingerprint'), person.email);
    } catch (err) {
      return showWithProblem(request, reply, s.username, problemOf(err));
    }
    return redirectDone(reply, `/it-systemer/${encodeURIComponent(s.username)}`, 'key-removed');
  });

  for (const [action, enabled] of [['disable', false], ['enable', true]] as const) {
    app.post<{ Params: { username: string } }>(`/it-systemer/:username/${action}`, async (request, reply) => {
      const person = personOf(request);
      const s = await changeableSystem(pool, person, request.params.username);
      try {
        await setSystemEnabled(pool, s.username, enabled, person.email);
      } catch (err) {
        return showWithProblem(request, reply, s.username, problemOf(err));
      }
      return redirectDone(reply, `/it-systemer/${encodeURIComponent(s.username)}`, enabled ? 'enabled' : 'disabled');
    });
  }

  async function showWithProblem(request: Parameters<typeof personOf>[0], reply: Parameters<typeof renderPage>[1], username: string, problem: string) {
    const person = personOf(request);
    const s = await visibleSystem(pool, person, username);
    const routes = await listRoutes(pool, { sender: s.username });
    const guide = connectionGuide(config, s, routes, await loadHostKeys(join(config.dataDir, 'hostkeys')));
    return renderPage(request, reply, 'system', { s, guide, canChange: mayChange(person), problem }, 409);
  }
}

const mayChange = (person: Person) => person.role === 'vendor-admin' || person.role === 'operator';

/** The system if this person may see it; 404 otherwise, also for names that do not exist. */
export async function visibleSystem(pool: Pool, person: Person, username: string): Promise<SystemDetails> {
  const scope = scopeOf(person);
  if (scope.kind === 'authority') throw new NotFoundPage();
  const found = await requireSystem(pool, username).catch(() => undefined);
  if (!found || (scope.kind === 'vendor' && found.vendorId !== scope.vendorId)) throw new NotFoundPage();
  return showSystem(pool, found.username);
}

async function changeableSystem(pool: Pool, person: Person, username: string): Promise<SystemDetails> {
  const s = await visibleSystem(pool, person, username);
  if (!mayChange(person)) throw new NotFoundPage();
  return s;
}
