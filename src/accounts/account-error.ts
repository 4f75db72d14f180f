import { RefusedError, UsageError } from '../errors.js';

/**
 * Refusals of the accounts module carry a code, so each edge says them in its own words: the CLI
 * prints the English message, the portal looks the code up in the person's message catalogue.
 */
export type AccountErrorCode =
  | 'password-too-short'
  | 'password-is-email'
  | 'password-common'
  | 'email-invalid'
  | 'name-too-long'
  | 'organisation-missing'
  | 'organisation-not-allowed'
  | 'user-exists'
  | 'user-unknown'
  | 'already-disabled'
  | 'already-enabled'
  | 'link-invalid';

export class AccountUsageError extends UsageError {
  declare readonly code: AccountErrorCode;

  constructor(code: AccountErrorCode, message: string, readonly field?: string) {
    super(message, { code });
  }
}

export class AccountRefusedError extends RefusedError {
  declare readonly code: AccountErrorCode;

  constructor(code: AccountErrorCode, message: string) {
    super(message, { code });
  }
}
