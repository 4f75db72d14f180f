import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { log } from '../log.js';

export interface HostKey {
  type: string;
  /** The private key as ssh2 reads it (OpenSSH format for ed25519, PKCS#1 PEM for RSA). */
  privateKey: Buffer;
  /** 'SHA256:<base64>', as ssh-keygen -l and clients print it. */
  fingerprint: string;
  file: string;
}

const KEYS = [
  { file: 'ssh_host_ed25519_key', type: 'ssh-ed25519', make: makeEd25519 },
  { file: 'ssh_host_rsa_key', type: 'ssh-rsa', make: makeRsa },
] as const;

/**
 * The server's host keys under <data>/hostkeys/: ed25519 (offered first) and RSA (for old
 * clients). Created once, mode 0600, and reused on every start so clients keep trusting them.
 */
export async function loadHostKeys(dir: string): Promise<HostKey[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keys: HostKey[] = [];
  for (const k of KEYS) {
    const file = join(dir, k.file);
    let pem: Buffer;
    try {
      pem = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      pem = Buffer.from(k.make());
      await writeFile(file, pem, { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
        pem = await readFile(file); // another node made it first
      });
      log.info({ op: 'hostkey', file }, `created SSH host key ${file}`);
    }
    await chmod(file, 0o600);
    const parsed = ssh2.utils.parseKey(pem);
    if (parsed instanceof Error) throw new Error(`The SSH host key ${file} cannot be read (${parsed.message}); move it away to have a new one made`);
    const pub = parsed.getPublicSSH();
    keys.push({
      type: parsed.type,
      privateKey: pem,
      fingerprint: `SHA256:${createHash('sha256').update(pub).digest('base64').replace(/=+$/, '')}`,
      file,
    });
  }
  return keys;
}

function makeRsa(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return privateKey;
}

/** ssh2 reads ed25519 private keys only in OpenSSH's own format ("openssh-key-v1", unencrypted). */
function makeEd25519(): string {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const str = (b: Buffer | string) => {
    const body = typeof b === 'string' ? Buffer.from(b) : b;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
  };
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const pubBlob = Buffer.concat([str('ssh-ed25519'), str(pub)]);
  const check = randomBytes(4);
  let priv = Buffer.concat([check, check, str('ssh-ed25519'), str(pub), str(Buffer.concat([seed, pub])), str('filudveksling host key')]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), str('none'), str('none'), str(''), u32(1), str(pubBlob), str(priv)]);
  const b64 = body.toString('base64').replace(/(.{70})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
