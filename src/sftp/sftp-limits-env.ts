import { ConfigError } from '../errors.js';
import { DEFAULT_SFTP_LIMITS, type SftpLimits } from './sftp-server.js';
import type { UploadFsync } from './upload.js';

/**
 * The SFTP server's limits from the environment (README, SFTP). Each is optional; a bad value stops
 * `serve` with exit code 2 and a message naming the setting, like every other setting.
 * Behind a TCP proxy every client has the proxy's address: raise the per-address limits there, or
 * set SFTP_MAX_LOGIN_FAILURES=0 (no bans).
 */
type LimitKey = Exclude<keyof SftpLimits, 'now'>;
const SETTINGS: Array<{ name: string; key: LimitKey; unitMs: number; min: number }> = [
  { name: 'SFTP_MAX_LOGIN_FAILURES', key: 'maxFailures', unitMs: 0, min: 0 },
  { name: 'SFTP_LOGIN_FAILURE_WINDOW_SECONDS', key: 'failureWindowMs', unitMs: 1000, min: 1 },
  { name: 'SFTP_BAN_SECONDS', key: 'banMs', unitMs: 1000, min: 1 },
  { name: 'SFTP_LOGIN_GRACE_SECONDS', key: 'loginGraceMs', unitMs: 1000, min: 1 },
  { name: 'SFTP_MAX_UNAUTHENTICATED', key: 'maxUnauthenticated', unitMs: 0, min: 1 },
  { name: 'SFTP_MAX_UNAUTHENTICATED_PER_ADDRESS', key: 'maxUnauthenticatedPerAddress', unitMs: 0, min: 1 },
  { name: 'SFTP_MAX_SESSIONS_PER_SYSTEM', key: 'maxSessionsPerSystem', unitMs: 0, min: 1 },
  { name: 'SFTP_MAX_HANDLES', key: 'maxHandlesPerSession', unitMs: 0, min: 1 },
];

export const SFTP_LIMIT_SETTINGS = SETTINGS.map((s) => s.name);

export function sftpLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<SftpLimits> {
  const out: Partial<Record<LimitKey, number>> = {};
  for (const s of SETTINGS) {
    const raw = env[s.name];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < s.min) {
      const unit = s.unitMs ? 'seconds' : '';
      throw new ConfigError(
        `Bad value for ${s.name}: ${JSON.stringify(raw)} — it accepts a whole number ${unit ? `of ${unit} ` : ''}≥ ${s.min} (default ${
          s.unitMs ? Number(DEFAULT_SFTP_LIMITS[s.key]) / s.unitMs : DEFAULT_SFTP_LIMITS[s.key]
        }).`,
      );
    }
    out[s.key] = s.unitMs ? n * s.unitMs : n;
  }
  return out as Partial<SftpLimits>;
}

/** SFTP_FSYNC: 'always' (default) or 'on-request' (README, SFTP: Uploads). */
export function sftpFsyncFromEnv(env: NodeJS.ProcessEnv = process.env): UploadFsync {
  const raw = env.SFTP_FSYNC;
  if (raw === undefined || raw === '' || raw === 'always') return 'always';
  if (raw === 'on-request') return 'on-request';
  throw new ConfigError(`Bad value for SFTP_FSYNC: ${JSON.stringify(raw)} — it accepts "always" (default) or "on-request".`);
}

/** SFTP_NIST_KEX: 'off' (default) or 'on' — also offer ecdh-sha2-nistp256/384/521 (README, SFTP). */
export function sftpNistKexFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env.SFTP_NIST_KEX;
  if (raw === undefined || raw === '' || raw === 'off') return false;
  if (raw === 'on') return true;
  throw new ConfigError(`Bad value for SFTP_NIST_KEX: ${JSON.stringify(raw)} — it accepts "off" (default) or "on" (for clients without curve25519, e.g. JSch 0.1.x).`);
}
