/** A path inside the portal to go back to after a form; anything else (another site, `//x`) becomes `/`. */
export function safeLocalPath(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : '/';
}
