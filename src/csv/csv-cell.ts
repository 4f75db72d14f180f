/**
 * One cell of a CSV file meant for spreadsheets (the CLI's `--csv`, the portal's downloads): quoted
 * when it holds a quote, comma or line break; a text a spreadsheet would take for a formula (one
 * starting with =, +, -, @, a tab or a carriage return: a vendor or system named
 * `=HYPERLINK(…)`) starts with a quote mark, so it is shown as text. Numbers are written as they
 * are; nothing (null, undefined) is an empty cell.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
