import { mkdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { DIR_MODE, inDir, outDir } from '../storage/homes.js';
import { requireVendor } from '../vendors/find-vendor.js';
import { findSystemByUsername, findSystemByUuid, type SystemRow } from './find-system.js';
import type { SshPublicKey } from './ssh-public-key.js';
import { checkUsername } from './username.js';

export interface RegisterSystemInput {
  username: string;
  vendor: string;
  key: SshPublicKey;
  uuid?: string;
  inbox?: string;
  metadata?: string;
}

const LOWER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * `system register`: the system, its first key, and its home (`OUT/`, `IN/`) under the data
 * folder, all or nothing (the folders are made before the transaction commits).
 */
export async function registerSystem(pool: Pool, input: RegisterSystemInput, opts: { by: string; dataDir: string }): Promise<SystemRow> {
  const username = checkUsername(input.username);
  const uuid = input.uuid ?? randomUUID();
  if (!LOWER_UUID.test(uuid)) {
    const hint = LOWER_UUID.test(uuid.toLowerCase()) ? ` Give it in lower case: ${uuid.toLowerCase()}` : ' Give a UUID like 3f2c6d1e-8b7a-4c5d-9e0f-112233445566, in lower case, as KOMBIT\'s Administrationsmodul shows it, or leave --uuid out to have one made.';
    throw new UsageError(`--uuid '${uuid}' is not a lower-case UUID (SPEC §1).${hint}`, { code: 'system-uuid-invalid', values: { uuid } });
  }
  const inbox = input.inbox ?? 'per-authority';
  if (inbox !== 'per-authority' && inbox !== 'flat') throw new UsageError(`--inbox '${inbox}' is not a layout: use 'per-authority' (the default) or 'flat'.`, { code: 'system-inbox-invalid', values: { inbox } });
  const metadata = input.metadata ?? 'file-metadata';
  if (metadata !== 'file-metadata' && metadata !== 'legacy') throw new UsageError(`--metadata '${metadata}' is not a format: use 'file-metadata' (the default) or 'legacy'.`, { code: 'system-metadata-invalid', values: { metadata } });

  return inTransaction(pool, async (db) => {
    const vendor = await requireVendor(db, input.vendor);
    if (await findSystemByUsername(db, username)) {
      throw new RefusedError(`A system named '${username}' is already registered (see 'filudveksling system show ${username}'); choose another user name.`, { code: 'system-exists', values: { username } });
    }
    const sameUuid = await findSystemByUuid(db, uuid);
    if (sameUuid) throw new RefusedError(`UUID ${uuid} already belongs to system '${sameUuid.username}'; each system has its own UUID.`, { code: 'system-uuid-taken', values: { uuid } });
    // A registration racing this one for the same name or UUID fails on the unique index: say so.
    const { rows } = await db
      .query<{ id: number }>(
        `INSERT INTO systems (username, uuid, vendor_id, inbox_layout, metadata_format) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [username, uuid, vendor.id, inbox, metadata],
      )
      .catch((err: { code?: string; constraint?: string }) => {
        if (err.code !== '23505') throw err;
        throw err.constraint?.includes('uuid')
          ? new RefusedError(`UUID ${uuid} was just registered for another system; each system has its own UUID.`, { code: 'system-uuid-taken', values: { uuid } })
          : new RefusedError(`A system named '${username}' was just registered by someone else (see 'filudveksling system show ${username}'); choose another user name.`, {
              code: 'system-exists',
              values: { username },
            });
      });
    const id = rows[0]!.id;
    const k = input.key;
    const key = await db.query<{ id: number }>(
      'INSERT INTO system_keys (system_id, key_type, fingerprint, public_key, comment) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [id, k.keyType, k.fingerprint, k.publicKey, k.comment],
    );
    const system: SystemRow = { id, username, uuid, vendorId: vendor.id, enabled: true, inboxLayout: inbox, metadataFormat: metadata };
    await audit(db, { actor: opts.by, action: 'system.register', entity: 'system', entityId: id, after: { ...system, vendor: vendor.name } });
    await audit(db, { actor: opts.by, action: 'system.key.add', entity: 'system_key', entityId: key.rows[0]!.id, after: { system: username, keyType: k.keyType, fingerprint: k.fingerprint, comment: k.comment } });
    await mkdir(outDir(opts.dataDir, username), { recursive: true, mode: DIR_MODE });
    await mkdir(inDir(opts.dataDir, username), { recursive: true, mode: DIR_MODE });
    return system;
  });
}
