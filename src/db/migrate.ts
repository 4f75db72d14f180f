import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { inTransaction, type Pool } from './pool.js';

/** migrations/ at the package root, from src/db (ts-jest) or dist/src/db (built). */
export const migrationsDir = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../migrations/' : '../../migrations/', import.meta.url));

// Any constant works; it only has to be the same for every node.
const MIGRATION_LOCK = 7_352_001;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies the numbered plain-SQL files of migrations/ that are not yet recorded, in name order,
 * all in one transaction under an advisory lock, so two nodes starting at once do not race: the
 * second waits, then finds everything applied.
 */
export async function migrate(pool: Pool): Promise<MigrationResult> {
  const files = (await readdir(migrationsDir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = await readFile(`${migrationsDir}${file}`, 'utf8');
      try {
        await client.query(sql);
      } catch (err) {
        throw new Error(`Migration ${file} failed: ${(err as Error).message}`);
      }
      await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
      applied.push(file);
    }
    return { applied, alreadyApplied: done.size };
  });
}
