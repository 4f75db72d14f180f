import type pg from 'pg';
import { log } from '../log.js';

/** The CLI NOTIFYs this channel (payload = user name) when it disables/enables a system or changes its keys. */
export const SYSTEM_CHANGED_CHANNEL = 'filudveksling_system_changed';

/**
 * LISTENs on SYSTEM_CHANGED_CHANNEL on a connection of its own and calls `onChange(username)` for
 * each notification. Reconnects after a lost connection (and then calls `onReconnect`, since
 * notifications sent meanwhile are lost).
 */
export async function listenForSystemChanges(
  pool: pg.Pool,
  onChange: (username: string) => void,
  onReconnect: () => void,
): Promise<{ stop(): Promise<void> }> {
  let stopped = false;
  let client: pg.PoolClient | undefined;
  let retry: NodeJS.Timeout | undefined;
  // Released once only: an 'error' after stop() (PostgreSQL going away during shutdown) must not release again.
  const releases = new WeakMap<pg.PoolClient, (broken: boolean) => void>();

  const connect = async (): Promise<void> => {
    const c = await pool.connect();
    let released = false;
    const release = (broken: boolean) => {
      if (released) return;
      released = true;
      c.release(broken);
    };
    releases.set(c, release);
    c.on('notification', (msg) => {
      if (msg.channel === SYSTEM_CHANGED_CHANNEL && msg.payload) onChange(msg.payload);
    });
    c.on('error', (err) => {
      if (stopped) return release(true);
      log.warn({ op: 'sftp', err }, 'lost the PostgreSQL connection that listens for system changes; reconnecting');
      release(true);
      if (client === c) client = undefined;
      schedule();
    });
    await c.query(`LISTEN ${SYSTEM_CHANGED_CHANNEL}`);
    client = c;
  };
  const schedule = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().then(onReconnect, schedule);
    }, 1000);
    retry.unref();
  };

  await connect();
  return {
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      if (c) {
        const ok = await c.query(`UNLISTEN ${SYSTEM_CHANGED_CHANNEL}`).then(() => true, () => false);
        releases.get(c)?.(!ok);
      }
    },
  };
}
