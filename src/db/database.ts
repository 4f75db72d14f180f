import type { Config } from '../config/config.js';
import type { EmbeddedOwner } from './embedded.js';
import { migrate } from './migrate.js';
import { createPool, type Pool } from './pool.js';

export interface Database {
  pool: Pool;
  url: string;
  /** Ends the pool and, if this process started the embedded server, stops it. */
  close(): Promise<void>;
}

/**
 * The one way in to PostgreSQL: DATABASE_URL when set, else the embedded server of the data
 * folder (SPEC §2). Migrations run here, so every command sees the current schema.
 */
export async function openDatabase(config: Config, owner: EmbeddedOwner, opts: { poolSize?: number; migrate?: boolean } = {}): Promise<Database> {
  // The embedded server's module (and its logger) loads only when there is no DATABASE_URL.
  const embedded = config.databaseUrl ? undefined : await (await import('./embedded.js')).openEmbedded(config.dataDir, owner);
  const url = config.databaseUrl ?? embedded!.url;
  const pool = createPool(url, opts.poolSize ?? 10);
  try {
    if (opts.migrate !== false) await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
  return {
    pool,
    url,
    async close() {
      await pool.end().catch(() => undefined);
      await embedded?.stop();
    },
  };
}
