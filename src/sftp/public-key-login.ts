import ssh2 from 'ssh2';
import type { AuthContext, Connection, ParsedKey, PublicKeyAuthContext } from 'ssh2';
import type pg from 'pg';
import type { Logger } from '../log.js';
import { findLoginKeys } from '../systems/find-login-keys.js';
import { LOGIN_SIGNATURE_ALGORITHMS } from './ssh-algorithms.js';

/** What one connection's login attempts are counted on. */
export interface Attempts {
  conn: Connection;
  triedToLogIn: boolean;
  authAttempts: number;
}

export interface Login {
  systemId: number;
  username: string;
  /** The key that logged in (a session ends when that key is removed). */
  keyBlob: Buffer;
}

/**
 * Public-key login against the systems' active keys in PostgreSQL (SPEC §3). Every other method is
 * answered with USERAUTH_FAILURE listing `publickey` (no prompt); a connection may try several keys
 * and methods, and only `maxAuthTries` attempts end it, as OpenSSH's sshd does.
 */
export class PublicKeyLogin {
  private readonly parsed = new Map<string, ParsedKey | undefined>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly maxAuthTries: number,
  ) {}

  /** A registered key parsed once (cached; undefined when ssh2 cannot parse it). */
  parse(publicKey: string): ParsedKey | undefined {
    if (!this.parsed.has(publicKey)) {
      const k = ssh2.utils.parseKey(publicKey);
      this.parsed.set(publicKey, k instanceof Error ? undefined : Array.isArray(k) ? k[0] : k);
      if (this.parsed.size > 10_000) this.parsed.delete(this.parsed.keys().next().value!);
    }
    return this.parsed.get(publicKey);
  }

  /** The keys `username` may log in with now; undefined when the system is unknown or disabled. */
  async keysOf(username: string): Promise<ParsedKey[] | undefined> {
    const login = await findLoginKeys(this.pool, username);
    return login?.publicKeys.map((k) => this.parse(k)).filter((k): k is ParsedKey => k !== undefined);
  }

  /**
   * One attempt. Returns the login when a registered key signed correctly (the caller accepts or
   * rejects it); otherwise the attempt has been answered and undefined is returned.
   */
  async attempt(state: Attempts, ctx: AuthContext, log: Logger): Promise<Login | undefined> {
    if (ctx.method === 'none') return void ctx.reject(['publickey']);
    state.triedToLogIn = true;
    state.authAttempts++;
    if (state.authAttempts > this.maxAuthTries) {
      log.warn({ attempts: state.authAttempts }, 'too many login attempts on one connection; closing it');
      ctx.reject(['publickey']);
      state.conn.end();
      return undefined;
    }
    if (ctx.method !== 'publickey') return void ctx.reject(['publickey']); // password, keyboard-interactive: no prompt
    const pk = ctx as PublicKeyAuthContext;
    // ssh-rsa signatures are SHA-1: refused (rsa-sha2-256/512 with the same RSA key work).
    const sigAlgo = pk.key.algo === 'ssh-rsa' ? (pk.hashAlgo === 'sha256' ? 'rsa-sha2-256' : pk.hashAlgo === 'sha512' ? 'rsa-sha2-512' : 'ssh-rsa') : pk.key.algo;
    const login = LOGIN_SIGNATURE_ALGORITHMS.has(sigAlgo) ? await findLoginKeys(this.pool, pk.username) : undefined;
    const key = login?.publicKeys.map((k) => this.parse(k)).find((k) => k !== undefined && k.getPublicSSH().equals(pk.key.data));
    if (!login || !key) {
      if (pk.signature) log.warn({ user: pk.username, keyAlgo: sigAlgo }, 'login refused: unknown user or key');
      return void ctx.reject(['publickey']);
    }
    if (!pk.signature || !pk.blob) return void ctx.accept(); // the client asks whether this key would do
    if (key.verify(pk.blob, pk.signature, pk.hashAlgo) !== true) {
      log.warn({ user: pk.username }, 'login refused: bad signature');
      return void ctx.reject(['publickey']);
    }
    return { systemId: login.systemId, username: login.username, keyBlob: Buffer.from(pk.key.data) };
  }
}
