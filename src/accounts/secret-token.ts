import { createHash, randomBytes } from 'node:crypto';

/** A fresh secret for a link, session or API token: 32 random bytes, URL-safe. Only its hash is stored. */
export function newSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** What the database keeps of a secret. SHA-256 suffices: the secrets are random, not passwords. */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
