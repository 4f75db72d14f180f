import { TriggerError, quote } from './trigger-error.js';

/**
 * Bytes → text for a trigger (SPEC §10): a UTF-8 byte-order mark is dropped, UTF-16 with a BOM is
 * read, and an XML declaration naming ISO-8859-1/windows-1252 is honoured (Danish letters from older
 * Windows clients). Anything else must be valid UTF-8.
 */
export function decodeXmlBytes(input: Buffer | string): string {
  if (typeof input === 'string') return input.replace(/^\uFEFF/, '');
  const b = input;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return utf8(b.subarray(3));
  if (b[0] === 0xff && b[1] === 0xfe) return new TextDecoder('utf-16le').decode(b.subarray(2));
  if (b[0] === 0xfe && b[1] === 0xff) return new TextDecoder('utf-16be').decode(b.subarray(2));
  const declared = /^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(b.subarray(0, 256).toString('latin1'))?.[1];
  const encoding = declared?.toLowerCase();
  if (encoding === undefined || encoding === 'utf-8' || encoding === 'utf8' || encoding === 'us-ascii' || encoding === 'ascii') return utf8(b);
  if (['iso-8859-1', 'iso8859-1', 'latin1', 'latin-1', 'windows-1252', 'cp1252', 'iso-8859-15'].includes(encoding)) {
    return new TextDecoder(encoding === 'iso-8859-15' ? 'iso-8859-15' : 'windows-1252').decode(b);
  }
  throw new TriggerError('TRIGGER_MALFORMED', `The trigger declares encoding ${quote(declared!)}, which is not supported; write it in UTF-8`);
}

function utf8(b: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    throw new TriggerError('TRIGGER_MALFORMED', 'The trigger is not valid UTF-8 text; write it in UTF-8 (a byte-order mark is allowed)');
  }
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Replaces XML's five predefined entities and character references. Nothing else is ever expanded
 * (no DTD is accepted, so no other entity can exist): an unknown `&name;` makes the trigger malformed.
 */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&\s]{0,32});?/g, (whole, body: string) => {
    if (!whole.endsWith(';')) throw new TriggerError('TRIGGER_MALFORMED', `The trigger has a bare '&' near ${quote(whole)}; write it as &amp;`);
    const named = PREDEFINED[body];
    if (named !== undefined) return named;
    const num = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(body);
    if (num) {
      const cp = num[1] !== undefined ? parseInt(num[1], 16) : Number(num[2]);
      if (isXmlChar(cp)) return String.fromCodePoint(cp);
      throw new TriggerError('TRIGGER_MALFORMED', `The trigger has a character reference to a character XML forbids: ${quote(whole)}`);
    }
    throw new TriggerError('TRIGGER_MALFORMED', `The trigger uses the entity ${quote(whole)}; entities other than &amp; &lt; &gt; &quot; &apos; are not accepted`);
  });
}

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Text content or attribute value for XML we write: escaped, and characters XML 1.0 forbids replaced by U+FFFD. */
export function escapeXml(value: string): string {
  return value
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
