import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createPool, type Pool } from '../src/db/pool.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let db: TestDatabase;
let pool: Pool;
beforeAll(async () => {
  db = await createTestDatabase('dbpool');
  pool = createPool(db.url, 2);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

it("every connection of the service's pool runs without PostgreSQL's JIT (its compiling cost the usage pages more than it saved)", async () => {
  // Two at once: both connections of the pool, each set as it connects, before its first query.
  const settings = await Promise.all([0, 1].map(async () => {
    const client = await pool.connect();
    try {
      return (await client.query<{ jit: string }>('SHOW jit')).rows[0]!.jit;
    } finally {
      client.release();
    }
  }));
  expect(settings).toEqual(['off', 'off']);
});
