import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import { ConfigError, RefusedError, UsageError } from '../errors.js';
import { createOutput, type Output } from './output.js';

/** What every command gets: configuration, output, the operator's name, and the database on demand. */
export interface CommandContext {
  config: Config;
  out: Output;
  /** The operator, for the audit log (--by, default the OS user). */
  by: string;
  /** Opens the database once per command (migrating it unless told not to). */
  db(opts?: { migrate?: boolean }): Promise<Database>;
}

interface GlobalOptions {
  json?: boolean;
  config?: string;
  by?: string;
}

/**
 * Wraps a command's action: builds its context, runs it, closes the database, and maps errors to
 * exit codes (0 done, 1 refused, 2 bad usage or configuration — SPEC §8).
 *
 * Every CLI call is a fresh process, so start-up time is what an operator (and the CLI tests, which
 * spawn hundreds) waits for. A command file therefore imports at its top only commander, errors.js,
 * context.js and output.js (plus types); the modules its action uses are loaded inside the action
 * with `await import()`, so `--help` loads no database code and no command loads ssh2, BullMQ
 * or fast-xml-parser unless it uses them.
 */
export function action<A extends unknown[]>(fn: (ctx: CommandContext, ...args: A) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const globals = command.optsWithGlobals<GlobalOptions>();
    const out = createOutput(Boolean(globals.json));
    let database: Database | undefined;
    try {
      // Loaded when a command runs, not when it is registered: `--help` and usage errors need none of it.
      const [{ loadConfig }, { setLogLevel }] = await Promise.all([import('../config/config.js'), import('../log.js')]);
      const config = loadConfig(process.env, globals.config);
      setLogLevel(process.env.LOG_LEVEL ? config.logLevel : 'warn');
      const ctx: CommandContext = {
        config,
        out,
        by: globals.by ?? operatorName(),
        db: async (opts) => {
          if (!database) {
            const { openDatabase } = await import('../db/database.js');
            database = await openDatabase(config, 'cli', opts);
          }
          return database;
        },
      };
      await fn(ctx, ...(args.slice(0, -1) as A));
    } catch (err) {
      process.exitCode = reportError(err, out);
    } finally {
      await database?.close().catch(async (err: unknown) => (await import('../log.js')).log.warn({ err }, 'closing the database failed'));
    }
  };
}

export function reportError(err: unknown, out: Output): number {
  const code = err instanceof UsageError || err instanceof ConfigError ? 2 : 1;
  const message = err instanceof Error ? err.message : String(err);
  const known = err instanceof UsageError || err instanceof RefusedError;
  if (out.json) writeJsonError(message, code);
  process.stderr.write(`${known ? '' : 'Unexpected error: '}${message}\n`);
  if (!known && err instanceof Error && process.env.LOG_LEVEL === 'debug') process.stderr.write(`${err.stack}\n`);
  return code;
}

/** The --json form of an error, on stdout: `{"error": "…", "exitCode": n}`. */
export function writeJsonError(message: string, exitCode: number): void {
  process.stdout.write(`${JSON.stringify({ error: message, exitCode })}\n`);
}

function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
