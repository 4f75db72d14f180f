import { TRANSFER_STATES } from '../src/router/transfer-states.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { migrated } from './helpers/factories.js';

describe('transfer states', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('states');
    await migrated(db.pool);
  });
  afterAll(async () => db.drop());

  it('the CHECK on transfers.status allows exactly the states transfer-states.ts names', async () => {
    const { rows } = await db.pool.query<{ def: string }>(
      `SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
        WHERE c.conrelid = 'transfers'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%status%'`,
    );
    expect(rows).toHaveLength(1);
    const allowed = [...rows[0]!.def.matchAll(/'([a-z]+)'::text/g)].map((m) => m[1]);
    expect(allowed.length).toBeGreaterThan(0);
    expect([...allowed].sort()).toEqual([...TRANSFER_STATES].sort());
  });
});
