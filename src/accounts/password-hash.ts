import argon2 from 'argon2';

/**
 * argon2id with OWASP's recommended minimum (Password Storage Cheat Sheet: 19 MiB, 2 passes, 1 lane):
 * the library's default (64 MiB, 3 passes, 4 lanes) cost over a second per login on a busy 2-core
 * node, which a burst of logins turns into a queue. Verification reads the parameters from the hash.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

let decoy: Promise<string> | undefined;

/**
 * A hash to check a password against when there is no account (or no password yet), so that an
 * unknown e-mail costs the same time as a wrong password.
 */
export function decoyHash(): Promise<string> {
  return (decoy ??= hashPassword('decoy password that no account has'));
}
