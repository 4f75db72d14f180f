import { log } from '../log.js';

/** How long a stopping node lets uploads in progress and routing jobs in flight finish. */
export const DEFAULT_DRAIN_MS = 30_000;

/**
 * The drain timeout: `FILUDVEKSLING_DRAIN_MS` when set to a whole number of milliseconds (0 ends
 * sessions at once), else 30 s. A stopping node gives its SFTP sessions this long to finish what
 * they have open, then its router workers this long again to finish the jobs they hold.
 */
export function drainTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FILUDVEKSLING_DRAIN_MS;
  if (raw === undefined || raw === '') return DEFAULT_DRAIN_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0) {
    log.warn({ op: 'serve', FILUDVEKSLING_DRAIN_MS: raw }, `FILUDVEKSLING_DRAIN_MS must be a whole number of milliseconds, got '${raw}'; using ${DEFAULT_DRAIN_MS}`);
    return DEFAULT_DRAIN_MS;
  }
  return ms;
}

/** Resolves true when `p` settles within `ms`, false when the time ran out first. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const, () => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
