import type { Pool } from '../db/pool.js';
import { log } from '../log.js';
import { writeFallingBehindNotices } from './falling-behind-notice.js';
import { writeRejectionDigests } from './rejection-digest.js';

export interface NoticeClockOptions {
  pool: Pool;
  unfetchedHours: number;
  /** How often it looks (default a minute): the hourly digest is due a minute after its hour. */
  everyMs?: number;
  now?: () => Date;
}

export interface NoticeClock {
  /** One look now: the digests of complete hours, the recipients falling behind. */
  tick(): Promise<void>;
  /** Stops looking; resolves when a look in progress has ended. */
  stop(): Promise<void>;
}

/**
 * The notices no single event writes (SPEC §12): hourly rejection digests and "falling behind". Every
 * routing node looks every minute; the tables those notices are marked in make each at most once
 * whichever node looks first, so no node needs to be the one.
 */
export function startNoticeClock(o: NoticeClockOptions): NoticeClock {
  const now = o.now ?? (() => new Date());
  let running: Promise<void> | undefined;
  const tick = async () => {
    const at = now();
    const digests = await writeRejectionDigests(o.pool, at);
    const behind = await writeFallingBehindNotices(o.pool, at, o.unfetchedHours);
    if (digests + behind > 0) log.info({ op: 'notice', digests, behind }, `wrote ${digests} rejection digest(s) and ${behind} falling-behind notice(s)`);
  };
  const timer = setInterval(() => {
    if (running) return;
    running = tick()
      .catch((err: unknown) => log.warn({ op: 'notice', err }, 'writing digests and falling-behind notices failed; trying again in a minute'))
      .finally(() => (running = undefined));
  }, o.everyMs ?? 60_000);
  timer.unref();
  return {
    tick,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
