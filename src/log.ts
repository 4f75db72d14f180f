import { pino, type Logger } from 'pino';

/**
 * One JSON line per event on stderr (stdout stays free for CLI output).
 * Children carry `op`, `system` and `transferId` (STYLE.md, Logs).
 */
export const log: Logger = pino(
  { level: process.env.LOG_LEVEL ?? 'info', base: { pid: process.pid } },
  pino.destination({ fd: 2, sync: false }),
);

export function setLogLevel(level: string): void {
  log.level = level;
}

export type { Logger };
