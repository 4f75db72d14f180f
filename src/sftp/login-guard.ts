/**
 * Who may even start an SSH handshake: addresses that failed to log in too often are refused for a
 * while (brute force), and unauthenticated connections are capped overall and per address, so a
 * flood of half-open handshakes cannot starve real clients. Past `startupsStart` unauthenticated
 * connections a new one is dropped at random, more likely the fuller it gets — OpenSSH's
 * MaxStartups start:rate:full (10:30:100): a flood then holds few slots and others still get in.
 * The clock and the randomness are injectable for tests.
 */
export interface LoginGuardOptions {
  /** Failed logins (connections that tried and did not get in) from one address… (0: never ban) */
  maxFailures: number;
  /** …within this long… */
  failureWindowMs: number;
  /** …refuse that address for this long. */
  banMs: number;
  /** MaxStartups' full: no more unauthenticated connections than this. */
  maxUnauthenticated: number;
  maxUnauthenticatedPerAddress: number;
  /** MaxStartups' start: from this many unauthenticated connections on, drop new ones at random… */
  startupsStart: number;
  /** …with this probability in percent at start, rising linearly to 100 at full. */
  startupsRate: number;
  now?: () => number;
  /** Uniform in [0, 1). */
  random?: () => number;
}

export const DEFAULT_LOGIN_GUARD: LoginGuardOptions = {
  maxFailures: 10,
  failureWindowMs: 10 * 60_000,
  banMs: 15 * 60_000,
  maxUnauthenticated: 100,
  maxUnauthenticatedPerAddress: 10,
  startupsStart: 10,
  startupsRate: 30,
};

export type Admission = { ok: true } | { ok: false; reason: string };

export class LoginGuard {
  private readonly failures = new Map<string, number[]>();
  private readonly bannedUntil = new Map<string, number>();
  private readonly unauthenticated = new Map<string, number>();
  private unauthenticatedTotal = 0;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly o: LoginGuardOptions) {
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  /** At TCP accept. An admitted connection must later call `authenticated` or `ended`. */
  admit(address: string): Admission {
    const until = this.bannedUntil.get(address);
    if (until !== undefined) {
      if (until > this.now()) return { ok: false, reason: `address banned after repeated failed logins until ${new Date(until).toISOString()}` };
      this.bannedUntil.delete(address);
    }
    if (this.unauthenticatedTotal >= this.o.maxUnauthenticated) {
      return { ok: false, reason: `too many unauthenticated connections (${this.o.maxUnauthenticated})` };
    }
    if ((this.unauthenticated.get(address) ?? 0) >= this.o.maxUnauthenticatedPerAddress) {
      return { ok: false, reason: `too many unauthenticated connections from this address (${this.o.maxUnauthenticatedPerAddress})` };
    }
    if (this.randomEarlyDrop()) {
      const { startupsStart: start, startupsRate: rate, maxUnauthenticated: full } = this.o;
      return { ok: false, reason: `random early drop at ${this.unauthenticatedTotal} unauthenticated connections (MaxStartups ${start}:${rate}:${full})` };
    }
    this.unauthenticatedTotal++;
    this.unauthenticated.set(address, (this.unauthenticated.get(address) ?? 0) + 1);
    return { ok: true };
  }

  /** The connection logged in: it no longer counts as unauthenticated. */
  authenticated(address: string): void {
    this.release(address);
  }

  /** The connection ended before logging in; `failed` when it tried to log in. */
  ended(address: string, failed: boolean): void {
    this.release(address);
    if (failed) this.recordFailure(address);
  }

  recordFailure(address: string): boolean {
    if (this.o.maxFailures <= 0) return false; // bans switched off
    const now = this.now();
    const recent = (this.failures.get(address) ?? []).filter((t) => now - t < this.o.failureWindowMs);
    recent.push(now);
    if (recent.length >= this.o.maxFailures) {
      this.failures.delete(address);
      this.bannedUntil.set(address, now + this.o.banMs);
      return true;
    }
    this.failures.set(address, recent);
    return false;
  }

  /** OpenSSH's drop(): never below start, always at full, in between with a rising probability. */
  private randomEarlyDrop(): boolean {
    const n = this.unauthenticatedTotal;
    const { startupsStart: start, startupsRate: rate, maxUnauthenticated: full } = this.o;
    if (n < start) return false;
    if (n >= full) return true;
    const percent = rate + ((100 - rate) * (n - start)) / (full - start);
    return this.random() * 100 < percent;
  }

  isBanned(address: string): boolean {
    const until = this.bannedUntil.get(address);
    return until !== undefined && until > this.now();
  }

  private release(address: string): void {
    const n = this.unauthenticated.get(address) ?? 0;
    if (n <= 0) return;
    this.unauthenticatedTotal--;
    if (n === 1) this.unauthenticated.delete(address);
    else this.unauthenticated.set(address, n - 1);
  }
}
