import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import { RefusedError } from '../errors.js';

/** A system's SSH public key as stored in system_keys (SPEC §3: several may be active). */
export interface SshPublicKey {
  keyType: string;
  /** `SHA256:<base64 without padding>`, exactly as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** `<type> <base64>`, the comment kept apart. */
  publicKey: string;
  comment: string | null;
}

/** Reads and parses an OpenSSH public key file; refuses private keys (never stored) and anything else. */
export async function readPublicKeyFile(file: string): Promise<SshPublicKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new RefusedError(`Cannot read the SSH public key file '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Give the path of the system's public key (for example id_rsa.pub, made by 'ssh-keygen').`);
  }
  return parsePublicKey(text, file);
}

export function parsePublicKey(text: string, source = 'the key'): SshPublicKey {
  if (/PRIVATE KEY/.test(text)) throw privateKeyRefusal(source);
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const oneLine = lines.length > 0 && !lines[0]!.startsWith('----');
  if (oneLine && lines.length > 1) {
    throw new RefusedError(`'${source}' holds ${lines.length} lines; give one SSH public key per file (add more keys one at a time with 'filudveksling system key add').`, {
      code: 'key-lines',
      values: { lines: lines.length },
    });
  }
  const parsed = ssh2.utils.parseKey(oneLine ? lines[0]! : text);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) {
    throw new RefusedError(
      `'${source}' is not an SSH public key (${key instanceof Error ? key.message : 'nothing found'}). Give an OpenSSH public key file, one line like 'ssh-rsa AAAA… comment' (the .pub file 'ssh-keygen' writes).`,
      { code: 'key-invalid' },
    );
  }
  if (key.isPrivateKey()) throw privateKeyRefusal(source);
  const blob = key.getPublicSSH();
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { keyType: key.type, fingerprint, publicKey: `${key.type} ${blob.toString('base64')}`, comment: key.comment ? key.comment : null };
}

function privateKeyRefusal(source: string): RefusedError {
  return new RefusedError(`'${source}' is a PRIVATE key: it was not stored. Give the PUBLIC key (the .pub file next to it, e.g. id_rsa.pub), and keep the private key with the system that logs in.`, {
    code: 'key-private',
  });
}
