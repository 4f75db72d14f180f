/** What parsing a trigger can fail with (SPEC §5: 1001 and 1002). The router turns it into a receipt. */
export type TriggerErrorCode = 'TRIGGER_MALFORMED' | 'TRIGGER_INVALID';

export class TriggerError extends Error {
  override readonly name = 'TriggerError';

  constructor(
    readonly code: TriggerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A value as quoted in an error message: single quotes, long values shortened, controls made visible. */
export function quote(value: string, max = 80): string {
  const visible = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `'${visible.length > max ? `${visible.slice(0, max)}…` : visible}'`;
}
