import { audit } from '../audit/audit.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { UsageError } from '../errors.js';
import { parseDay } from '../routes/validity-day.js';
import { formatDkk, parseDkk } from './money.js';

/**
 * KOMBIT's two price models (SPEC §13), each price valid from a day until the next price of the
 * same model (and service) begins:
 * - buffet: øre per inhabitant per year, owed by an authority while it holds an agreement;
 * - per-use: øre per delivered file and per GiB, for a service (send or fetch) kept outside it.
 */
export type Service = 'send' | 'fetch';

export interface PriceRow {
  id: number;
  model: 'buffet' | 'per-use';
  service: Service | null;
  validFrom: string;
  perInhabitantOre: number | null;
  perFileOre: number | null;
  perGibOre: number | null;
  setBy: string;
  setAt: Date;
}

export type PriceInput =
  | { model: 'buffet'; perInhabitant?: string; from?: string }
  | { model: 'per-use'; service?: string; perFile?: string; perGib?: string; from?: string };

const SELECT = `SELECT id, model, nullif(service, '') AS service, valid_from AS "validFrom", per_inhabitant_ore AS "perInhabitantOre",
       per_file_ore AS "perFileOre", per_gib_ore AS "perGibOre", set_by AS "setBy", set_at AS "setAt" FROM prices`;

/**
 * `price set`: a price from a day. Setting a price again for the same model, service and day
 * replaces it (the audit row keeps the old one).
 */
export async function setPrice(pool: Pool, input: PriceInput, by: string): Promise<PriceRow> {
  const row = checkPrice(input);
  return inTransaction(pool, async (db) => {
    await db.query('LOCK TABLE prices IN SHARE ROW EXCLUSIVE MODE');
    const { rows: old } = await db.query<PriceRow>(`${SELECT} WHERE model = $1 AND service = $2 AND valid_from = $3`, [row.model, row.service, row.validFrom]);
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO prices (model, service, valid_from, per_inhabitant_ore, per_file_ore, per_gib_ore, set_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (model, service, valid_from) DO UPDATE
          SET per_inhabitant_ore = excluded.per_inhabitant_ore, per_file_ore = excluded.per_file_ore, per_gib_ore = excluded.per_gib_ore,
              set_by = excluded.set_by, set_at = now()
       RETURNING id`,
      [row.model, row.service, row.validFrom, row.perInhabitantOre, row.perFileOre, row.perGibOre, by],
    );
    const after = (await db.query<PriceRow>(`${SELECT} WHERE id = $1`, [rows[0]!.id])).rows[0]!;
    await audit(db, { actor: by, action: old[0] ? 'price.replace' : 'price.set', entity: 'price', entityId: after.id, before: old[0] && auditView(old[0]), after: auditView(after) });
    return after;
  });
}

function checkPrice(input: PriceInput): { model: string; service: string; validFrom: string; perInhabitantOre: number | null; perFileOre: number | null; perGibOre: number | null } {
  if (input.from === undefined) throw new UsageError('Give --from <YYYY-MM-DD>: the first day the price holds.');
  const validFrom = parseDay(input.from, '--from');
  if (input.model === 'buffet') {
    const extra = input as { service?: string; perFile?: string; perGib?: string };
    if (extra.service !== undefined || extra.perFile !== undefined || extra.perGib !== undefined) {
      throw new UsageError('The buffet price is per inhabitant only: drop --service, --per-file and --per-gib (those are for --model per-use).');
    }
    if (input.perInhabitant === undefined) throw new UsageError('Give --per-inhabitant <DKK>: the yearly buffet price per inhabitant, e.g. 12.50.');
    return { model: 'buffet', service: '', validFrom, perInhabitantOre: parseDkk(input.perInhabitant, '--per-inhabitant'), perFileOre: null, perGibOre: null };
  }
  if (input.model !== 'per-use') throw new UsageError(`--model '${(input as { model: string }).model}' is not a price model: use 'buffet' or 'per-use'.`);
  if ((input as { perInhabitant?: string }).perInhabitant !== undefined) {
    throw new UsageError('A per-use price is per file and per GiB: drop --per-inhabitant (that is for --model buffet).');
  }
  if (input.service !== 'send' && input.service !== 'fetch') {
    throw new UsageError(input.service === undefined ? 'Give --service send|fetch: the service this per-use price is for.' : `--service '${input.service}' is not a service: use 'send' or 'fetch'.`);
  }
  if (input.perFile === undefined || input.perGib === undefined) {
    throw new UsageError('Give both --per-file <DKK> and --per-gib <DKK> (0 for none), e.g. --per-file 0.25 --per-gib 10.');
  }
  return { model: 'per-use', service: input.service, validFrom, perInhabitantOre: null, perFileOre: parseDkk(input.perFile, '--per-file'), perGibOre: parseDkk(input.perGib, '--per-gib') };
}

function auditView(p: PriceRow) {
  return { model: p.model, service: p.service, validFrom: p.validFrom, perInhabitantOre: p.perInhabitantOre, perFileOre: p.perFileOre, perGibOre: p.perGibOre };
}

/** Every price, by model, service and first day. */
export async function listPrices(db: Queryable): Promise<PriceRow[]> {
  const { rows } = await db.query<PriceRow>(`${SELECT} ORDER BY model, service, valid_from`);
  return rows;
}

/** A price's span within [from, next): the days it applies to one invoice period. */
export interface PriceSpan {
  first: string;
  /** Exclusive. */
  next: string;
  price: PriceRow;
}

/**
 * The prices of one model (and service) that hold on some day of [from, next), each cut to that
 * period: the price in force on `from` (if any), then each change inside it.
 */
export function spansWithin(prices: PriceRow[], model: PriceRow['model'], service: Service | null, from: string, next: string): PriceSpan[] {
  const own = prices.filter((p) => p.model === model && p.service === service).sort((a, b) => (a.validFrom < b.validFrom ? -1 : 1));
  const spans: PriceSpan[] = [];
  own.forEach((p, i) => {
    const end = own[i + 1]?.validFrom ?? next;
    const first = p.validFrom > from ? p.validFrom : from;
    const until = end < next ? end : next;
    if (first < until) spans.push({ first, next: until, price: p });
  });
  return spans;
}

/** Whether a per-use price (either service) holds on some day of [from, next): if none does, usage costs nothing beyond the buffet there. */
export function perUsePriceWithin(prices: PriceRow[], from: string, next: string): boolean {
  return spansWithin(prices, 'per-use', 'send', from, next).length > 0 || spansWithin(prices, 'per-use', 'fetch', from, next).length > 0;
}

/** How `price list` and invoices show a price. */
export function describePrice(p: PriceRow): string {
  return p.model === 'buffet'
    ? `${formatDkk(p.perInhabitantOre!)} DKK per inhabitant per year`
    : `${formatDkk(p.perFileOre!)} DKK per file + ${formatDkk(p.perGibOre!)} DKK per GiB (${p.service})`;
}
