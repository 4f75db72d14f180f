import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { ConfigError } from '../errors.js';
import { configSchema, settingNames, type SettingName } from './config-schema.js';

export interface Config {
  dataDir: string;
  env: 'test' | 'production';
  sftpHost: string;
  sftpPort: number;
  httpHost: string;
  httpPort: number;
  databaseUrl?: string;
  redisUrl?: string;
  routerConcurrency: number;
  retentionDays: number;
  maxFileBytes: number;
  logLevel: string;
  /** The portal's listener (SPEC §11); undefined when PORTAL_PORT is `off`. */
  portal?: { host: string; port: number };
  /** The address people use, without a trailing slash (links in mails; Secure cookies when https). */
  portalPublicUrl: string;
  /** Proxies whose X-Forwarded-For gives the client's address (PORTAL_TRUST_PROXY): true (the one in front), or addresses/CIDRs. */
  portalTrustProxy?: true | string[];
  smtpUrl?: string;
  /** PEM file trusted for the SMTP server's TLS instead of the system's CAs (a private CA, a self-signed server). */
  smtpCaFile?: string;
  mailFrom: string;
  notifyUnfetchedHours: number;
  sftp: SftpSettings;
  /** How long a stopping node lets uploads, then routing jobs, finish (0: end them at once). */
  drainMs: number;
  /** Attempts of a routing job before its transfer fails (transient faults), exponential backoff from `routerBackoffMs`. */
  routerAttempts: number;
  routerBackoffMs: number;
  /** Attempts to mail one notice (SMTP refusals), exponential backoff from `noticeBackoffMs`. */
  noticeAttempts: number;
  noticeBackoffMs: number;
  /** Redis key prefix of the queues, so several deployments (or test files) can share one Redis. */
  queuePrefix: string;
  retentionEveryMs: number;
}

/** The SFTP server's settings (times in milliseconds). */
export interface SftpSettings {
  maxFailures: number;
  failureWindowMs: number;
  banMs: number;
  loginGraceMs: number;
  maxUnauthenticated: number;
  maxUnauthenticatedPerAddress: number;
  maxSessionsPerSystem: number;
  maxHandlesPerSession: number;
  maxHandlesPerSystem: number;
  descriptorReserve: number;
  /** MaxStartups start:rate (full is maxUnauthenticated). */
  startupsStart: number;
  startupsRate: number;
  /** When upload bytes are fsynced: 'always', or 'on-request' (when the client asks). */
  fsync: 'always' | 'on-request';
  /** Also offer the NIST-curve key exchanges. */
  nistKex: boolean;
}

// The schema is our own constant, so it is not checked against JSON Schema's meta-schema at every start
// (compiling the meta-schema doubled the cost of every CLI command); strict mode still refuses unknown keywords.
const ajv = new Ajv({ useDefaults: true, coerceTypes: true, allErrors: true, validateSchema: false, meta: false });
const validate = ajv.compile(configSchema);

/**
 * Reads the configuration: a `--config` JSON file (keys as the environment variables) first,
 * then the environment on top. Empty variables count as unset. Throws ConfigError naming the
 * setting, the value and what it accepts.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, configFile?: string): Config {
  const raw: Record<string, unknown> = {};
  if (configFile) Object.assign(raw, readConfigFile(configFile));
  for (const name of settingNames) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const given = { ...raw }; // as written: validating coerces `raw` in place
  if (!validate(raw)) {
    const first = validate.errors![0]!;
    const name = (first.instancePath.slice(1) || String(first.params.additionalProperty ?? '')) as SettingName;
    const spec = configSchema.properties[name];
    if (!spec) {
      throw new ConfigError(`Unknown setting "${name}" in ${configFile}; known settings: ${settingNames.join(', ')}`);
    }
    const dflt = 'default' in spec ? ` (default ${JSON.stringify(spec.default)})` : '';
    throw new ConfigError(`Bad value for ${name}: ${JSON.stringify(given[name])} — it accepts ${spec.description}${dflt}.`);
  }
  const v = raw as Record<SettingName, never>;
  return {
    dataDir: resolve(v.FILUDVEKSLING_DATA),
    env: v.FILUDVEKSLING_ENV,
    sftpHost: v.SFTP_HOST,
    sftpPort: v.SFTP_PORT,
    httpHost: v.HTTP_HOST,
    httpPort: v.HTTP_PORT,
    databaseUrl: v.DATABASE_URL,
    redisUrl: v.REDIS_URL,
    routerConcurrency: v.ROUTER_CONCURRENCY,
    retentionDays: v.RETENTION_DAYS,
    maxFileBytes: v.MAX_FILE_BYTES,
    logLevel: v.LOG_LEVEL,
    ...portalSettings(v.PORTAL_HOST, v.PORTAL_PORT, v.PORTAL_PUBLIC_URL),
    portalTrustProxy: v.PORTAL_TRUST_PROXY === undefined ? undefined : v.PORTAL_TRUST_PROXY === 'true' ? true : String(v.PORTAL_TRUST_PROXY).split(/\s*,\s*/),
    smtpUrl: v.SMTP_URL,
    smtpCaFile: v.SMTP_CA_FILE,
    mailFrom: v.MAIL_FROM,
    notifyUnfetchedHours: v.NOTIFY_UNFETCHED_HOURS,
    sftp: {
      maxFailures: v.SFTP_MAX_LOGIN_FAILURES,
      failureWindowMs: v.SFTP_LOGIN_FAILURE_WINDOW_SECONDS * 1000,
      banMs: v.SFTP_BAN_SECONDS * 1000,
      loginGraceMs: v.SFTP_LOGIN_GRACE_SECONDS * 1000,
      ...maxStartups(v.SFTP_MAX_STARTUPS, v.SFTP_MAX_UNAUTHENTICATED),
      maxUnauthenticatedPerAddress: v.SFTP_MAX_UNAUTHENTICATED_PER_ADDRESS,
      maxSessionsPerSystem: v.SFTP_MAX_SESSIONS_PER_SYSTEM,
      maxHandlesPerSession: v.SFTP_MAX_HANDLES,
      maxHandlesPerSystem: v.SFTP_MAX_HANDLES_PER_SYSTEM,
      descriptorReserve: v.SFTP_FD_RESERVE,
      fsync: v.SFTP_FSYNC,
      nistKex: v.SFTP_NIST_KEX === 'on',
    },
    drainMs: v.FILUDVEKSLING_DRAIN_MS,
    routerAttempts: v.FILUDVEKSLING_ROUTER_ATTEMPTS,
    routerBackoffMs: v.FILUDVEKSLING_ROUTER_BACKOFF_MS,
    noticeAttempts: v.FILUDVEKSLING_NOTICE_ATTEMPTS,
    noticeBackoffMs: v.FILUDVEKSLING_NOTICE_BACKOFF_MS,
    queuePrefix: v.FILUDVEKSLING_QUEUE_PREFIX,
    retentionEveryMs: v.FILUDVEKSLING_RETENTION_EVERY_MS,
  };
}

/** SFTP_MAX_STARTUPS "start:rate:full"; unset, start 10 (at most full), rate 30, full SFTP_MAX_UNAUTHENTICATED. */
function maxStartups(setting: string | undefined, maxUnauthenticated: number): Pick<SftpSettings, 'startupsStart' | 'startupsRate' | 'maxUnauthenticated'> {
  if (setting === undefined) return { startupsStart: Math.min(10, maxUnauthenticated), startupsRate: 30, maxUnauthenticated };
  const [start, rate, full] = setting.split(':').map(Number) as [number, number, number];
  if (start > full) {
    throw new ConfigError(`Bad value for SFTP_MAX_STARTUPS: ${JSON.stringify(setting)} — start (${start}) must not be above full (${full}), e.g. "10:30:100".`);
  }
  return { startupsStart: start, startupsRate: rate, maxUnauthenticated: full };
}

function portalSettings(host: string, port: string, publicUrl: string | undefined): Pick<Config, 'portal' | 'portalPublicUrl'> {
  const portal = port === 'off' ? undefined : { host, port: Number(port) };
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { portal, portalPublicUrl: (publicUrl ?? `http://${shownHost}:${port === 'off' ? 8081 : port}`).replace(/\/$/, '') };
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the --config file ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`The --config file ${path} is not a JSON object of settings: ${(err as Error).message}`);
  }
}
