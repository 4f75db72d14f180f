/**
 * Everything the CLI prints goes through here: a table or one sentence for people, JSON with --json.
 * stdout carries results; stderr carries errors and progress.
 */
export interface Output {
  json: boolean;
  /** A result: `data` as JSON with --json, else the human text (or a table). */
  result(data: unknown, human: string | (() => string)): void;
  /** Progress or notes for a person; silent with --json. */
  note(text: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(data, human) {
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${typeof human === 'function' ? human() : human}\n`);
    },
    note(text) {
      if (!json) process.stderr.write(`${text}\n`);
    },
  };
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined | Date;
  align?: 'left' | 'right';
}

/** An aligned plain-text table; an empty list says so in words. */
export function table<T>(rows: T[], columns: Column<T>[], empty = 'Nothing to show.'): string {
  if (rows.length === 0) return empty;
  const cells = rows.map((r) => columns.map((c) => formatCell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values.map((v, i) => (columns[i]!.align === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (v instanceof Date) return v.toISOString().replace('T', ' ').slice(0, 19);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}
