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
  smtpUrl?: string;
  mailFrom: string;
  notifyUnfetchedHours: number;
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
  if (!validate(raw)) {
    const first = validate.errors![0]!;
    const name = (first.instancePath.slice(1) || String(first.params.additionalProperty ?? '')) as SettingName;
    const spec = configSchema.properties[name];
    if (!spec) {
      throw new ConfigError(`Unknown setting "${name}" in ${configFile}; known settings: ${settingNames.join(', ')}`);
    }
    throw new ConfigError(`Bad value for ${name}: ${JSON.stringify(raw[name])} — it accepts ${spec.description}.`);
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
    smtpUrl: v.SMTP_URL,
    mailFrom: v.MAIL_FROM,
    notifyUnfetchedHours: v.NOTIFY_UNFETCHED_HOURS,
  };
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
