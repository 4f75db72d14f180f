/**
 * A path inside the portal to go back to after a form; anything else becomes `/`: another site
 * (`//x`, `/\\x`), and any control character or white space, which browsers drop from a URL
 * (`/<TAB>/x` is `//x` to them) or which cannot stand in a Location header (CR, LF).
 */
export function safeLocalPath(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\x00-\x20\x7f]*$/.test(value) ? value : '/';
}
