/**
 * The world a benchmark runs in: a database of its own (migrated), a data folder, a vendor and
 * systems registered as the CLI would — all undone at the end of the run (leftovers.ts).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { migrate } from '../src/db/migrate.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { registerSystem } from '../src/systems/register-system.js';
import { parsePublicKey } from '../src/systems/ssh-public-key.js';
import type { SystemRow } from '../src/systems/find-system.js';
import { addVendor } from '../src/vendors/add-vendor.js';
import { benchDatabase, leaveBehind } from './leftovers.js';

export const BY = 'bench';
const VENDOR = 'Bench Vendor';

/** Where the machine's PostgreSQL has its Unix socket (Debian). */
const SOCKET_DIR = process.env.BENCH_PG_SOCKET_DIR ?? '/var/run/postgresql';

export interface BenchWorld {
  dbUrl: string;
  /**
   * How serve reaches the database: through the Unix socket, as the embedded PostgreSQL is reached
   * by default (BENCH_DB=tcp: over loopback TCP, as DATABASE_URL=postgres://…@127.0.0.1 would).
   */
  serveDbUrl: string;
  pool: Pool;
  dataDir: string;
  /** A system with the given public key (OpenSSH text), or with a fresh ed25519 pair. */
  system(username: string, publicKey?: string): Promise<{ system: SystemRow; privateKey?: string }>;
}

export async function benchWorld(label: string): Promise<BenchWorld> {
  const db = await benchDatabase();
  const pool = createPool(db.url, 4);
  leaveBehind('the bench pool', () => pool.end());
  await migrate(pool);
  const dataDir = await mkdtemp(join(tmpdir(), `fu-bench-${label}-`));
  leaveBehind(`data folder ${dataDir}`, () => rm(dataDir, { recursive: true, force: true }));
  await addVendor(pool, { name: VENDOR }, BY);
  const port = new URL(db.url).port || '5432';
  const overSocket = process.env.BENCH_DB !== 'tcp' && existsSync(join(SOCKET_DIR, `.s.PGSQL.${port}`));
  return {
    dbUrl: db.url,
    serveDbUrl: overSocket ? `${db.url}?host=${encodeURIComponent(SOCKET_DIR)}` : db.url,
    pool,
    dataDir,
    async system(username, publicKey) {
      let privateKey: string | undefined;
      if (!publicKey) {
        // ssh2's generator drops a leading zero byte of an ed25519 public key (1 key in 250): draw again.
        let pair = ssh2.utils.generateKeyPairSync('ed25519');
        while (ssh2.utils.parseKey(pair.private) instanceof Error || ssh2.utils.parseKey(pair.public) instanceof Error) pair = ssh2.utils.generateKeyPairSync('ed25519');
        publicKey = pair.public;
        privateKey = pair.private;
      }
      const system = await registerSystem(pool, { username, vendor: VENDOR, key: parsePublicKey(publicKey) }, { by: BY, dataDir });
      return { system, privateKey };
    },
  };
}
