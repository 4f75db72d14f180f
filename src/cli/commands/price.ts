import { Command, Option } from 'commander';
import { action } from '../context.js';
import { table } from '../output.js';

interface PriceOptions {
  model: 'buffet' | 'per-use';
  service?: string;
  perInhabitant?: string;
  perFile?: string;
  perGib?: string;
  from?: string;
}

/** `price set | list` (SPEC §13): the buffet price and per-use prices, each from a day. */
export function registerPrice(program: Command): void {
  const price = program.command('price').description('prices (SPEC §13): the buffet price per inhabitant and per-use prices per service');

  price
    .command('set')
    .description('a price from a day (DKK as 12.50 or 12,50); the same model, service and day again replaces it')
    .addOption(new Option('--model <model>', 'buffet: DKK per inhabitant per year; per-use: DKK per file and per GiB').choices(['buffet', 'per-use']).makeOptionMandatory())
    .option('--per-inhabitant <DKK>', 'buffet: yearly price per inhabitant')
    .option('--service <service>', 'per-use: send or fetch')
    .option('--per-file <DKK>', 'per-use: price per delivered file')
    .option('--per-gib <DKK>', 'per-use: price per GiB (2^30 bytes) delivered')
    .option('--from <date>', 'first day the price holds, YYYY-MM-DD')
    .action(
      action(async (ctx, opts: PriceOptions) => {
        const { describePrice, setPrice } = await import('../../prices/prices.js');
        const db = await ctx.db();
        const p = await setPrice(db.pool, { ...opts }, ctx.by);
        ctx.out.result(p, `From ${p.validFrom}: ${describePrice(p)}.`);
      }),
    );

  price
    .command('list')
    .description('every price, by model, service and first day')
    .action(
      action(async (ctx) => {
        const [{ listPrices }, { formatDkk }] = await Promise.all([import('../../prices/prices.js'), import('../../prices/money.js')]);
        const db = await ctx.db();
        const rows = await listPrices(db.pool);
        const dkk = (ore: number | null) => (ore === null ? null : formatDkk(ore));
        ctx.out.result(rows, () =>
          table(
            rows,
            [
              { header: 'MODEL', value: (r) => r.model },
              { header: 'SERVICE', value: (r) => r.service },
              { header: 'FROM', value: (r) => r.validFrom },
              { header: 'PER INHABITANT/YEAR', value: (r) => dkk(r.perInhabitantOre), align: 'right' },
              { header: 'PER FILE', value: (r) => dkk(r.perFileOre), align: 'right' },
              { header: 'PER GIB', value: (r) => dkk(r.perGibOre), align: 'right' },
              { header: 'SET BY', value: (r) => r.setBy },
            ],
            "No prices yet; set one with 'filudveksling price set --model buffet --per-inhabitant <DKK> --from <date>'.",
          ),
        );
      }),
    );
}
