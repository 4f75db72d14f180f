/**
 * The per-use amount worked out in SQL (the Forbrug page prices its rows in the database) is the
 * amount perUseAmount works out (invoices and the CSV), to the øre: rounded once, half up, with no
 * overflow at large counts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { perUseAmount, perUseAmountSql } from '../src/prices/per-use.js';
import { ADMIN_URL } from './helpers/database.js';

let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
});

const GIB = 2 ** 30;
const CASES: Array<[files: number, bytes: number, perFileOre: number, perGibOre: number]> = [
  [0, 0, 25, 1000],
  [1, 0, 25, 1000],
  [0, GIB / 2, 0, 1], // exactly half an øre: up
  [0, GIB / 2 - 1, 0, 1], // just under half: down
  [0, GIB / 2 + 1, 0, 1],
  [3, 1_090_519_040, 30, 800],
  [7, 123_456_789, 1, 7], // a fraction of an øre
  [1_000_000, 1e15, 1_000_000, 100_000], // far beyond 2^63 before the division
  [12_345, 987_654_321_012, 13, 999],
];

describe('perUseAmountSql', () => {
  it.each(CASES)('%d files, %d bytes at %d øre a file and %d øre a GiB: as perUseAmount', async (files, bytes, perFileOre, perGibOre) => {
    const { rows } = await client.query<{ amount: string }>(
      `SELECT ${perUseAmountSql('$1::bigint', '$2::bigint', '$3::bigint', '$4::bigint')}::text AS amount`,
      [files, bytes, perFileOre, perGibOre],
    );
    expect(Number(rows[0]!.amount)).toBe(perUseAmount(files, bytes, { perFileOre, perGibOre }));
  });

  it('is NULL without a price (the use is inside the buffet)', async () => {
    const { rows } = await client.query(`SELECT ${perUseAmountSql('1::bigint', '2::bigint', 'NULL::bigint', 'NULL::bigint')} AS amount`);
    expect(rows[0].amount).toBeNull();
  });
});
