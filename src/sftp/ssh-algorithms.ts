import { createRequire } from 'node:module';
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

const require = createRequire(import.meta.url);

/**
 * Whether ssh2's native crypto addon (sshcrypto.node: AES-GCM, ChaCha20-Poly1305 in C) loaded.
 * Without it ssh2 falls back to much slower JavaScript paths.
 */
export function nativeCryptoLoaded(): boolean {
  return (require('ssh2/lib/protocol/crypto.js') as { bindingAvailable: boolean }).bindingAvailable;
}

interface KexEntry {
  array: string[];
}
interface KexOffer {
  lists: {
    kex: KexEntry;
    serverHostKey: KexEntry;
    cs: { cipher: KexEntry; mac: KexEntry; compress: KexEntry; lang: KexEntry };
    sc: { cipher: KexEntry; mac: KexEntry; compress: KexEntry; lang: KexEntry };
  };
}
const { KexInit } = require('ssh2/lib/protocol/kex.js') as { KexInit: new (o: object) => KexOffer };
const offers = new WeakMap<KexOffer, KexOffer>();

/**
 * ssh2 always offers `ssh-rsa` (RSA host key signed with SHA-1) for an RSA host key, whatever the
 * configured list says. Called from the server's 'connection' event — after the client's version
 * line, before ssh2 sends its KEXINIT — this swaps the connection's offer for the same one without
 * `ssh-rsa` (test/sftp-login.test.ts checks the offer).
 */
export function dropSha1HostKeyAlgorithm(connection: unknown): void {
  const protocol = (connection as { _protocol?: { _offer?: KexOffer } })._protocol;
  const offer = protocol?._offer;
  if (!protocol || !offer?.lists?.serverHostKey) return;
  let ours = offers.get(offer);
  if (!ours) {
    const l = offer.lists;
    const side = (x: KexOffer['lists']['cs']) => ({ cipher: x.cipher.array, mac: x.mac.array, compress: x.compress.array, lang: x.lang.array });
    ours = new KexInit({
      kex: l.kex.array,
      serverHostKey: l.serverHostKey.array.filter((a) => a !== 'ssh-rsa'),
      cs: side(l.cs),
      sc: side(l.sc),
    });
    offers.set(offer, ours);
    offers.set(ours, ours);
  }
  protocol._offer = ours;
}
