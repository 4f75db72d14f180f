/**
 * JSON Schema of the configuration (SPEC §2, README "Configuration"). Every setting, its default and
 * what it accepts live here, and only here: a bad value stops the process with exit code 2 and a
 * message naming the setting (config.ts); nothing falls back silently.
 */
const wholeNumber = (min: number, dflt: number, unit = '') =>
  ({ type: 'integer', minimum: min, default: dflt, description: `a whole number${unit ? ` of ${unit}` : ''} ≥ ${min}` }) as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    FILUDVEKSLING_DATA: { type: 'string', minLength: 1, default: './data', description: 'a folder path' },
    FILUDVEKSLING_ENV: { enum: ['test', 'production'], default: 'test', description: '"test" or "production"' },
    SFTP_HOST: { type: 'string', minLength: 1, default: '0.0.0.0', description: 'an address to listen on' },
    SFTP_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 2222, description: 'a TCP port 0–65535' },
    HTTP_HOST: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'an address to listen on' },
    HTTP_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'a TCP port 0–65535' },
    DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://', description: 'a postgres:// connection string' },
    REDIS_URL: { type: 'string', pattern: '^rediss?://', description: 'a redis:// connection string' },
    ROUTER_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 1024, default: 8, description: 'a whole number 1–1024' },
    RETENTION_DAYS: { type: 'integer', minimum: 1, maximum: 36500, default: 30, description: 'a whole number of days ≥ 1' },
    MAX_FILE_BYTES: { type: 'integer', minimum: 1, default: 53687091200, description: 'a whole number of bytes ≥ 1' },
    LOG_LEVEL: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'a pino level' },
    PORTAL_HOST: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'an address to listen on' },
    // A string, so that `off` (no portal on this node) and a number share one setting.
    PORTAL_PORT: { type: 'string', pattern: '^(off|[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$', default: '8081', description: 'a TCP port 0–65535, or "off"' },
    PORTAL_PUBLIC_URL: { type: 'string', pattern: '^https?://[^/?#\\s]+/?$', description: 'an http:// or https:// address without a path, e.g. https://filudveksling.example.dk' },
    PORTAL_TRUST_PROXY: { type: 'string', pattern: '^(true|[0-9A-Fa-f.:/]+(\\s*,\\s*[0-9A-Fa-f.:/]+)*)$', description: '"true" (the one proxy in front, whatever its address: the client is the last address in X-Forwarded-For) or the proxies\' addresses/CIDRs, comma-separated, e.g. 10.0.0.0/8' },
    SMTP_URL: { type: 'string', pattern: '^smtps?://', description: 'an smtp:// or smtps:// address' },
    SMTP_CA_FILE: { type: 'string', minLength: 1, description: 'a PEM file of the certificate(s) that sign the SMTP server\'s certificate' },
    MAIL_FROM: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$', default: 'filudveksling@localhost', description: 'an e-mail address' },
    NOTIFY_UNFETCHED_HOURS: { type: 'integer', minimum: 1, maximum: 8760, default: 24, description: 'a whole number of hours ≥ 1' },

    // The SFTP server's limits (README, SFTP). Behind a TCP proxy every client has the proxy's
    // address: raise the per-address limits there, or set SFTP_MAX_LOGIN_FAILURES=0 (no bans).
    SFTP_MAX_LOGIN_FAILURES: wholeNumber(0, 10),
    SFTP_LOGIN_FAILURE_WINDOW_SECONDS: wholeNumber(1, 600, 'seconds'),
    SFTP_BAN_SECONDS: wholeNumber(1, 900, 'seconds'),
    SFTP_LOGIN_GRACE_SECONDS: wholeNumber(1, 30, 'seconds'),
    SFTP_MAX_UNAUTHENTICATED: wholeNumber(1, 100),
    SFTP_MAX_UNAUTHENTICATED_PER_ADDRESS: wholeNumber(1, 10),
    SFTP_MAX_SESSIONS_PER_SYSTEM: wholeNumber(1, 50),
    SFTP_MAX_HANDLES: wholeNumber(1, 1024),
    // Open handles of one system over all its sessions on a node, and descriptors kept from handles
    // for PostgreSQL, Redis, HTTP and the sockets (docs/operations.md, SFTP limits).
    SFTP_MAX_HANDLES_PER_SYSTEM: wholeNumber(1, 1024),
    SFTP_FD_RESERVE: wholeNumber(0, 512),
    // OpenSSH's MaxStartups random early drop of unauthenticated connections; unset: 10:30:<SFTP_MAX_UNAUTHENTICATED>.
    SFTP_MAX_STARTUPS: {
      type: 'string',
      pattern: '^[0-9]{1,6}:([0-9]|[1-9][0-9]|100):[1-9][0-9]{0,5}$',
      description: 'start:rate:full as OpenSSH\'s MaxStartups, e.g. "10:30:100" (rate in percent, start ≤ full)',
    },
    SFTP_FSYNC: { enum: ['always', 'on-request'], default: 'always', description: '"always" or "on-request"' },
    SFTP_NIST_KEX: { enum: ['off', 'on'], default: 'off', description: '"off" or "on" (for clients without curve25519, e.g. JSch 0.1.x)' },

    // Stopping, routing and housekeeping (README, Operations).
    FILUDVEKSLING_DRAIN_MS: wholeNumber(0, 30_000, 'milliseconds'),
    FILUDVEKSLING_ROUTER_ATTEMPTS: wholeNumber(1, 8),
    FILUDVEKSLING_ROUTER_BACKOFF_MS: wholeNumber(1, 2000, 'milliseconds'),
    FILUDVEKSLING_NOTICE_ATTEMPTS: wholeNumber(1, 8),
    FILUDVEKSLING_NOTICE_BACKOFF_MS: wholeNumber(1, 30_000, 'milliseconds'),
    FILUDVEKSLING_QUEUE_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', default: 'filudveksling', description: 'letters, digits, ".", "_" and "-"' },
    FILUDVEKSLING_RETENTION_EVERY_MS: wholeNumber(1000, 3_600_000, 'milliseconds'),
  },
} as const;

export type SettingName = keyof typeof configSchema.properties;
export const settingNames = Object.keys(configSchema.properties) as SettingName[];
