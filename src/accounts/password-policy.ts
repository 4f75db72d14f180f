import { AccountUsageError } from './account-error.js';
import { COMMON_PASSWORDS } from './common-passwords.js';

export const MIN_PASSWORD_LENGTH = 12;

/** SPEC §11: at least 12 characters, not the e-mail, not a common password. Throws naming the rule. */
export function checkPassword(password: string, email: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new AccountUsageError('password-too-short', `The password must be at least ${MIN_PASSWORD_LENGTH} characters long; choose a longer one.`, 'password');
  }
  const lower = password.toLowerCase();
  if (lower === email.toLowerCase() || lower === email.toLowerCase().split('@')[0]) {
    throw new AccountUsageError('password-is-email', 'The password must not be the e-mail address; choose another.', 'password');
  }
  if (COMMON_PASSWORDS.has(lower)) {
    throw new AccountUsageError('password-common', 'That password is among the most common ones and easy to guess; choose another.', 'password');
  }
}
