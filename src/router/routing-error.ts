import type { ErrorCodeName } from '../triggers/error-codes.js';
import { bounded } from '../triggers/trigger-error.js';

/**
 * A permanent reason to refuse a transfer (SPEC §5): it carries the receipt's code and a message
 * that says what was wrong, with the value, and what to do (at most ~1 KiB: it goes into the
 * receipt, the log and the transfer's row). Turned into receipt XML only where the
 * receipt is built (decide-step.ts).
 */
export class RoutingError extends Error {
  override readonly name = 'RoutingError';

  constructor(
    readonly code: ErrorCodeName,
    message: string,
  ) {
    super(bounded(message));
  }
}

/**
 * Not now, later: the job goes back to the queue's delayed set for `delayMs` without using up one of
 * its attempts (the data file is still being uploaded; another worker holds the transfer; an older
 * trigger with the same SendersFileId is still in flight).
 */
export class RouteLater extends Error {
  override readonly name = 'RouteLater';

  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}
