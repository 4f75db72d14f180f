import { createRequire } from 'node:module';
import type { Algorithms } from 'ssh2';

/**
 * The SSH algorithms the server offers, set explicitly (never ssh2's defaults): no SHA-1, no CBC,
 * no 1024/2048-bit DH groups with SHA-1, no compression. diffie-hellman-group-exchange-sha256 is
 * left out because ssh2 cannot serve it. Non-ETM hmac-sha2 stays for clients on libssh2 ≤ 1.10
 * (curl) that know no ETM MACs; with the GCM and ChaCha ciphers no MAC is used at all.
 */
export const SSH_ALGORITHMS: Algorithms = {
  kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521'],
  cipher: [
    'aes128-gcm@openssh.com',
    'aes256-gcm@openssh.com',
    'chacha20-poly1305@openssh.com',
    'aes128-ctr',
    'aes192-ctr',
    'aes256-ctr',
  ],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
  serverHostKey: ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256'],
  compress: ['none'],
};

/** Signature algorithms accepted for public-key login (ssh-rsa would mean SHA-1). */
export const LOGIN_SIGNATURE_ALGORITHMS = new Set([
  'ssh-ed25519',
  'rsa-sha2-256',
  'rsa-sha2-512',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
]);

const require = createRequire(import.meta.url);

/**
 * Whether ssh2's native crypto addon (sshcrypto.node: AES-GCM, ChaCha20-Poly1305 in C) loaded.
 * Without it ssh2 falls back to much slower JavaScript paths.
 */
export function nativeCryptoLoaded(): boolean {
  return (require('ssh2/lib/protocol/crypto.js') as { bindingAvailable: boolean }).bindingAvailable;
}
