/** What parsing a trigger can fail with (SPEC §5: 1001 and 1002). The router turns it into a receipt. */
export type TriggerErrorCode = 'TRIGGER_MALFORMED' | 'TRIGGER_INVALID';

export class TriggerError extends Error {
  override readonly name = 'TriggerError';

  constructor(
    readonly code: TriggerErrorCode,
    message: string,
  ) {
    super(bounded(message));
  }
}

/**
 * The most a refusal's text may be, in UTF-8 bytes: it goes into the receipt, a log line and the
 * transfer's row, and a trigger of 64 KiB must not make any of them larger (an XML parser's message
 * can quote most of its input).
 */
export const MAX_MESSAGE_BYTES = 1024;

/** `text` cut to MAX_MESSAGE_BYTES (at a character boundary, marked with '…'). */
export function bounded(text: string, max = MAX_MESSAGE_BYTES): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let cut = Buffer.from(text, 'utf8').subarray(0, max - 3).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1); // half a character at the cut
  return `${cut}…`;
}

/**
 * A value as quoted in an error message: single quotes, long values shortened, controls and
 * bidirectional formatting characters made visible (one would turn the rest of the message, on a
 * receipt or the transfer page, right to left, and make a value read as another).
 */
export function quote(value: string, max = 80): string {
  const visible = value.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `'${visible.length > max ? `${visible.slice(0, max)}…` : visible}'`;
}
