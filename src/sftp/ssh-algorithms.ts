import type { Algorithms, KexAlgorithm } from 'ssh2';

/**
 * The SSH algorithms the server offers, set explicitly (never ssh2's defaults): no SHA-1, no CBC,
 * no 1024/2048-bit DH groups with SHA-1, no compression. diffie-hellman-group-exchange-sha256 is
 * left out because ssh2 cannot serve it. Non-ETM hmac-sha2 stays for clients on libssh2 ≤ 1.10
 * (curl) that know no ETM MACs; with the GCM and ChaCha ciphers no MAC is used at all.
 */
export const SSH_ALGORITHMS: Algorithms = {
  kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org'],
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

/**
 * The NIST-curve ECDH key exchanges, offered only with SFTP_NIST_KEX=on: ssh-audit fails them
 * (curves suspected of being weakened), but clients without curve25519 (JSch 0.1.x, some old Java
 * and .NET libraries) need them.
 */
export const NIST_KEX: KexAlgorithm[] = ['ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521'];

export function sshAlgorithms(opts: { nistKex?: boolean } = {}): Algorithms {
  return opts.nistKex ? { ...SSH_ALGORITHMS, kex: [...(SSH_ALGORITHMS.kex as KexAlgorithm[]), ...NIST_KEX] } : SSH_ALGORITHMS;
}

/** Signature algorithms accepted for public-key login (ssh-rsa would mean SHA-1). */
export const LOGIN_SIGNATURE_ALGORITHMS = new Set([
  'ssh-ed25519',
  'rsa-sha2-256',
  'rsa-sha2-512',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
]);
