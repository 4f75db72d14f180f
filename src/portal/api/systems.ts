import type { FastifyInstance } from 'fastify';
import { RefusedError } from '../../errors.js';
import { findSystemByUsername, type SystemRow } from '../../systems/find-system.js';
import { listSystems, type SystemListRow } from '../../systems/list-systems.js';
import { registerSystem } from '../../systems/register-system.js';
import { parsePublicKey, type SshPublicKey } from '../../systems/ssh-public-key.js';
import { activeKeysOf, addSystemKey, listSystemKeys, removeSystemKey, type SystemKeyRow } from '../../systems/system-keys.js';
import { USERNAME_MAX_LENGTH } from '../../systems/username.js';
import { VENDOR_NAME_MAX_LENGTH } from '../../vendors/add-vendor.js';
import { findVendorById } from '../../vendors/find-vendor.js';
import { authorize, personOf } from '../authorize.js';
import { scopeOf } from '../can.js';
import { Problem, problemResponses } from '../problem.js';
import { fieldProblem, listLimit, namingFields, pageQuery } from './api-kit.js';

const systemSchema = {
  $id: 'System',
  type: 'object',
  description: 'An IT system (anvendersystem): its SFTP user name, UUID and active SSH keys',
  properties: {
    username: { type: 'string' },
    uuid: { type: 'string' },
    vendor: { type: 'string' },
    enabled: { type: 'boolean' },
    inbox: { enum: ['per-authority', 'flat'] },
    metadata: { enum: ['file-metadata', 'legacy'] },
    createdAt: { type: 'string' },
    keys: {
      type: 'array',
      items: {
        type: 'object',
        properties: { fingerprint: { type: 'string' }, type: { type: 'string' }, comment: { type: 'string' }, addedAt: { type: 'string' } },
        required: ['fingerprint', 'type', 'addedAt'],
      },
    },
  },
  required: ['username', 'uuid', 'vendor', 'enabled', 'inbox', 'metadata', 'keys'],
} as const;

const sshPublicKey = { type: 'string', minLength: 1, maxLength: 16384, description: "an OpenSSH public key, as in the .pub file ('ssh-ed25519 AAAA… comment')" } as const;
const usernameParams = { type: 'object', properties: { username: { type: 'string', minLength: 1, maxLength: USERNAME_MAX_LENGTH } }, required: ['username'] } as const;

/** registerSystem's refusals of a value in the body, by the field they are about. */
const REGISTER_FIELDS = {
  'vendor-unknown': 'vendor',
  'system-username-invalid': 'username',
  'system-uuid-invalid': 'uuid',
  'system-inbox-invalid': 'inbox',
  'system-metadata-invalid': 'metadata',
} as const;

/** /systems: a vendor's IT systems, registered with a pasted SSH public key; keys added and removed. */
export async function systemsApi(app: FastifyInstance): Promise<void> {
  const { pool, config } = app.portal;
  app.addSchema(systemSchema);

  /** A system as the API shows it; `known` keys (read for a whole list at once) spare a query. */
  const systemOut = async (s: SystemRow & Partial<Pick<SystemListRow, 'vendor' | 'createdAt'>>, known?: SystemKeyRow[]) => {
    const [keys, vendor] = await Promise.all([known ?? listSystemKeys(pool, s.id), s.vendor ?? findVendorById(pool, s.vendorId).then((v) => v!.name)]);
    return {
      username: s.username,
      uuid: s.uuid,
      vendor,
      enabled: s.enabled,
      inbox: s.inboxLayout,
      metadata: s.metadataFormat,
      ...(s.createdAt ? { createdAt: s.createdAt.toISOString() } : {}),
      keys: keys.map((k) => ({ fingerprint: k.fingerprint, type: k.keyType, ...(k.comment ? { comment: k.comment } : {}), addedAt: k.addedAt.toISOString() })),
    };
  };

  /** The system named in the path, if the person may see it (404 otherwise), checked for `action`. */
  const systemFor = async (request: Parameters<typeof personOf>[0], username: string) => {
    const p = personOf(request);
    const system = await findSystemByUsername(pool, username);
    const unknown = `No system '${username}'.`;
    if (!system) throw new Problem(404, unknown);
    authorize(p, 'system.manage', { vendorId: system.vendorId }, unknown);
    return { p, system };
  };

  app.get<{ Querystring: { limit?: number; after?: string } }>('/systems', {
    schema: {
      summary: 'Systems within your scope, by user name (keyset paging: after = the last user name)',
      tags: ['systems'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { ...pageQuery, after: { type: 'string', minLength: 1, maxLength: USERNAME_MAX_LENGTH, description: 'the user name of the last system seen' } },
      },
      response: { 200: { type: 'array', items: { $ref: 'System#' } }, ...problemResponses(400, 401) },
    },
  }, async (request) => {
    const scope = scopeOf(personOf(request));
    // Systems belong to vendors: an authority's people see none here (their agreements name the systems).
    if ('authorityId' in scope) return [];
    const rows = await listSystems(pool, { ...('vendorId' in scope ? { vendorId: scope.vendorId } : {}), after: request.query.after, limit: listLimit(request.query.limit) });
    const keys = await activeKeysOf(pool, rows.map((r) => r.id));
    return Promise.all(rows.map((r) => systemOut(r, keys.get(r.id))));
  });

  app.post<{ Body: { username: string; uuid?: string; sshPublicKey: string; inbox?: string; metadata?: string; vendor?: string } }>('/systems', {
    schema: {
      summary: "Register a system with a pasted SSH public key (vendor-admin: for its own vendor; operator: name the vendor)",
      tags: ['systems'],
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          username: { type: 'string', minLength: 1, maxLength: USERNAME_MAX_LENGTH },
          uuid: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', description: 'lower case, as KOMBIT\'s Administrationsmodul shows it; made when left out' },
          sshPublicKey,
          inbox: { enum: ['per-authority', 'flat'] },
          metadata: { enum: ['file-metadata', 'legacy'] },
          vendor: { type: 'string', minLength: 1, maxLength: VENDOR_NAME_MAX_LENGTH, description: "the vendor's name (operators; a vendor's people register for their own)" },
        },
        required: ['username', 'sshPublicKey'],
      },
      response: { 201: { $ref: 'System#' }, ...problemResponses(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    const p = personOf(request);
    const b = request.body;
    const own = p.vendor;
    authorize(p, 'system.manage', own ? { vendorId: own.id } : undefined);
    if (own && b.vendor !== undefined && b.vendor !== own.name) throw new Problem(404, `No vendor '${b.vendor}'.`);
    const vendor = own?.name ?? b.vendor;
    if (!vendor) throw new Problem(400, 'Name the vendor the system belongs to.', [{ pointer: '#/vendor', field: 'vendor', detail: 'is required for an operator' }]);
    const key = keyFrom(b.sshPublicKey);
    const system = await namingFields(REGISTER_FIELDS, () => registerSystem(pool, { username: b.username, vendor, key, uuid: b.uuid, inbox: b.inbox, metadata: b.metadata }, { by: p.email, dataDir: config.dataDir }));
    return reply.code(201).send(await systemOut(system));
  });

  app.post<{ Params: { username: string }; Body: { sshPublicKey: string } }>('/systems/:username/keys', {
    schema: {
      summary: 'Add an SSH public key to a system (key rotation: several may be active)',
      tags: ['systems'],
      params: usernameParams,
      body: { type: 'object', additionalProperties: false, properties: { sshPublicKey }, required: ['sshPublicKey'] },
      response: { 201: { $ref: 'System#' }, ...problemResponses(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    const { p, system } = await systemFor(request, request.params.username);
    await addSystemKey(pool, system.username, keyFrom(request.body.sshPublicKey), p.email);
    return reply.code(201).send(await systemOut(system));
  });

  app.delete<{ Params: { username: string; fingerprint: string } }>('/systems/:username/keys/:fingerprint', {
    schema: {
      summary: 'Remove an SSH key (it stops working at once); the fingerprint as ssh-keygen -l prints it, URL-encoded',
      tags: ['systems'],
      params: { type: 'object', properties: { ...usernameParams.properties, fingerprint: { type: 'string', pattern: '^SHA256:[A-Za-z0-9+/]{43}$' } }, required: ['username', 'fingerprint'] },
      response: { 200: { $ref: 'System#' }, ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request) => {
    const { p, system } = await systemFor(request, request.params.username);
    const { fingerprint } = request.params;
    if (!(await listSystemKeys(pool, system.id)).some((k) => k.fingerprint === fingerprint)) throw new Problem(404, `System '${system.username}' has no active key ${fingerprint}.`);
    await removeSystemKey(pool, system.username, fingerprint, p.email);
    return systemOut(system);
  });
}

/** A pasted key that is not a public key is bad input of that field (the CLI calls it a refusal of the file). */
function keyFrom(text: string): SshPublicKey {
  try {
    return parsePublicKey(text, 'sshPublicKey');
  } catch (err) {
    if (err instanceof RefusedError) throw fieldProblem('sshPublicKey', err);
    throw err;
  }
}
