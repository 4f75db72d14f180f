import { AccountUsageError } from './account-error.js';
import { COMMON_PASSWORDS } from './common-passwords.js';

export const MIN_PASSWORD_LENGTH = 12;

/** SPEC §11: at least 12 characters, not the e-mail, not a common password. Throws naming the rule. */
export function checkPassword(password: string, email: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new AccountUsageError('password-too-short', `The password must be at least ${MIN_PASSWORD_LENGTH} characters long; choose a longer one.`, 'password');
  }
  const lower = password.toLowerCase();
  // The whole address inside it counts ('pw@x.dk12345'); a local part alone does not: 'vera' may well
  // choose 'veras own long password'.
  if (lower.includes(email.toLowerCase()) || lower === email.toLowerCase().split('@')[0]) {
    throw new AccountUsageError('password-is-email', 'The password must not be or contain the e-mail address; choose another.', 'password');
  }
  // Twelve spaces, 'zzzzzzzzzzzz' or 'xyxyxyxyxyxy' are long but guessed at once.
  if (COMMON_PASSWORDS.has(lower) || new Set(lower.replace(/\s/g, '')).size < 4) {
    throw new AccountUsageError('password-common', 'That password is among the most common ones and easy to guess; choose another.', 'password');
  }
}
