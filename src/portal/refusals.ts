import { AccountRefusedError, AccountUsageError } from '../accounts/account-error.js';
import type { Language } from '../accounts/roles.js';
import { RefusedError, UsageError } from '../errors.js';
import { formatsFor } from './formats.js';
import { isMessageKey, translator } from './i18n/messages.js';

/**
 * A domain refusal in the portal's words. The domain's messages are the CLI's English, with its
 * commands as hints ("see 'filudveksling agreement list'"); a refusal that carries a code is said
 * from the catalogue instead — `account.<code>` or `refusal.<code>` — in the person's language on
 * pages and in English in the API's problem+json. One place for both edges, as the CLI has one.
 */

/** Values that are words themselves (a state, an action): said in the same language, by their catalogue key. */
const WORD_VALUES: Record<string, Record<string, string>> = {
  'agreement-state': { status: 'agreements.status.', from: 'agreements.status.', action: 'agreements.', next: 'refusal.agreement-state.' },
  'agreement-open': { service: 'refusal.service.' },
  'agreement-open-all': { service: 'refusal.service.' },
  'transfer-not-failed': { status: 'transfers.status.' },
};

/**
 * Values that are sizes in bytes: written as the language writes sizes (formats.ts: '21,5 MiB' /
 * '21.5 MiB'), rounded up — they are sizes over a limit, and 20 MiB and 1 byte must not read as the
 * limit's '20 MiB'. A refusal without its size (an upload the portal cut at the limit, whose size
 * nobody knows) is said by `<key>.size-unknown`: "over 20 MiB", never a made-up number.
 */
const BYTE_VALUES: Record<string, string[]> = {
  'declaration-document-too-big': ['size'],
  'form-too-big': ['size'],
};

/** Refusals with an HTTP status of their own (else bad input 400, refused 409): a file over the limit is 413. */
const STATUSES: Record<string, number> = {
  'declaration-document-too-big': 413,
  'form-too-big': 413,
};

/** The status a page or the API answers a refusal with: its own (STATUSES), else `otherwise`. */
export function refusalStatus(err: RefusedError | UsageError, otherwise: number): number {
  return STATUSES[err.code ?? ''] ?? otherwise;
}

/** The refusal in the catalogue's words in the language, or undefined when it carries no code the catalogue knows. */
export function refusalText(language: Language, err: unknown): string | undefined {
  if (!(err instanceof RefusedError || err instanceof UsageError) || !err.code) return undefined;
  const bytes = BYTE_VALUES[err.code] ?? [];
  const sized = bytes.every((name) => typeof err.values?.[name] === 'number');
  const key = err instanceof AccountUsageError || err instanceof AccountRefusedError ? `account.${err.code}` : `refusal.${err.code}${sized ? '' : '.size-unknown'}`;
  if (!isMessageKey(key)) return undefined;
  const t = translator(language);
  const words = WORD_VALUES[err.code] ?? {};
  const values = Object.fromEntries(
    Object.entries(err.values ?? {}).map(([name, value]) => {
      if (bytes.includes(name) && typeof value === 'number') return [name, formatsFor(language).bytes(value, 'up')];
      const word = words[name] !== undefined ? `${words[name]}${value}` : undefined;
      return [name, word !== undefined && isMessageKey(word) ? t(word) : value];
    }),
  );
  return t(key, values);
}

/** What the API says of a refusal: the catalogue's English, else the domain's message without the CLI's hints. */
export function apiDetail(err: RefusedError | UsageError): string {
  return refusalText('en', err) ?? withoutCliHints(err.message);
}

/**
 * A domain message without the CLI's commands, which mean nothing in a browser or to an API
 * client: "(see 'filudveksling …')", "; see 'filudveksling …'", and a sentence that is only such a hint.
 */
export function withoutCliHints(message: string): string {
  const cli = `'filudveksling [^']*'`;
  const text = message
    .replace(new RegExp(`\\s*\\([^()]*${cli}[^()]*\\)`, 'g'), '')
    .replace(new RegExp(`[;:,]\\s*[^;:.]*${cli}[^;.]*`, 'g'), '')
    .replace(new RegExp(`\\s*[^.;:]*${cli}[^.]*\\.?`, 'g'), '')
    .trim();
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
