import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { log } from '../../log.js';
import { uploadEvents, type UploadClosed, type UploadRenamed } from '../../sftp/upload-events.js';
import { dataLayout, DIR_MODE, isTriggerName, outDir } from '../../storage/homes.js';
import { submit, type RoutingQueue } from '../routing-queue.js';
import { watchOutFolders, type OutWatcher } from './out-watcher.js';
import { triggerJobId, triggerKey } from './trigger-key.js';
import type { UploadHashCache } from './upload-hash-cache.js';

export interface TriggerIntakeOptions {
  queue: RoutingQueue;
  dataDir: string;
  hashes: UploadHashCache;
  /** Listen to this node's SFTP upload events (roles all, sftp). */
  events: boolean;
  /** Watch the OUT folders, scan them now and every `rescanEveryMs` (roles all, router). */
  watch: boolean;
  rescanEveryMs?: number;
}

export interface TriggerIntake {
  /** Queues one trigger file (if it is still there). */
  offer(username: string, name: string, closedAt?: number, jobIdSuffix?: string): Promise<void>;
  /** Queues every trigger lying in any OUT now. Returns how many it found. */
  scan(jobIdSuffix?: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * How triggers get to the router: (a) at once, on this node's upload 'closed'/'renamed' events;
 * (b) from a watcher over homes/<user>/OUT, for triggers that arrive any other way; (c) a scan of
 * every OUT at start. All three name a trigger by its trigger key (owner, name, inode, mtime, size),
 * so they queue one job for it, and the router makes one transfer of it whatever the job count.
 */
export async function startTriggerIntake(opts: TriggerIntakeOptions): Promise<TriggerIntake> {
  const homes = dataLayout(opts.dataDir).homes;
  const boot = randomBytes(4).toString('hex');

  const recentlyQueued = new Map<string, number>();
  const offer = async (username: string, name: string, closedAt?: number, jobIdSuffix = ''): Promise<void> => {
    const path = join(outDir(opts.dataDir, username), name);
    let st;
    try {
      st = await stat(path, { bigint: true });
    } catch {
      return; // already taken by the router, or deleted
    }
    if (!st.isFile()) return;
    const key = triggerKey(username, name, st);
    const jobId = triggerJobId(key) + jobIdSuffix;
    // The rescan and the watcher see a waiting trigger again and again: queue it once a minute at most.
    const now = Date.now();
    const last = recentlyQueued.get(jobId);
    if (last !== undefined && now - last < 60_000) return;
    const at = closedAt ?? Number(st.mtimeMs);
    await submit(opts.queue, { kind: 'trigger', username, triggerName: name, key, closedAt: at }, jobId);
    recentlyQueued.set(jobId, now);
    if (recentlyQueued.size > 50_000) {
      for (const [id, t] of recentlyQueued) if (now - t >= 60_000) recentlyQueued.delete(id);
    }
  };
  const offerLogged = (username: string, name: string, closedAt?: number) => {
    offer(username, name, closedAt).catch((err: unknown) =>
      log.error({ op: 'intake', err, system: username, trigger: name }, 'could not queue a trigger; the watcher or the next start scan will'),
    );
  };

  // Triggers the upload events queued, so the watcher leaves them alone (kept for a minute).
  const queuedByEvent = new Map<string, number>();
  const noteQueued = (absPath: string) => {
    const now = Date.now();
    queuedByEvent.set(absPath, now);
    if (queuedByEvent.size > 10_000) {
      for (const [p, at] of queuedByEvent) if (now - at > 60_000) queuedByEvent.delete(p);
    }
  };
  const alreadyQueued = (absPath: string) => {
    const at = queuedByEvent.get(absPath);
    return at !== undefined && Date.now() - at < 60_000;
  };
  const onClosed = (e: UploadClosed) => {
    if (isTriggerName(e.name)) {
      noteQueued(e.absPath);
      offerLogged(e.username, e.name, Date.now() - (performance.now() - e.at));
    } else void opts.hashes.remember(e.absPath, e.sha256);
  };
  const onRenamed = (e: UploadRenamed) => {
    if (isTriggerName(e.to)) {
      noteQueued(e.absPath);
      offerLogged(e.username, e.to, Date.now());
    } else opts.hashes.renamed(join(dirname(e.absPath), e.from), e.absPath);
  };
  if (opts.events) {
    uploadEvents.on('closed', onClosed);
    uploadEvents.on('renamed', onRenamed);
  }

  let watcher: OutWatcher | undefined;
  const scan = async (jobIdSuffix = ''): Promise<number> => {
    let found = 0;
    let users: string[] = [];
    try {
      users = await readdir(homes);
    } catch {
      return 0;
    }
    for (const user of users) {
      watcher?.add(user);
      let names: string[];
      try {
        names = await readdir(outDir(opts.dataDir, user));
      } catch {
        continue;
      }
      for (const name of names.filter(isTriggerName)) {
        found++;
        await offer(user, name, undefined, jobIdSuffix);
      }
    }
    return found;
  };

  let rescan: NodeJS.Timeout | undefined;
  if (opts.watch) {
    await mkdir(homes, { recursive: true, mode: DIR_MODE });
    watcher = watchOutFolders(homes, (user, name) => offerLogged(user, name), { alreadyQueued });
    await watcher.ready;
    // The start scan uses its own job ids: a job of a node that died may still sit 'active' under the plain id.
    const found = await scan(`-scan-${boot}`);
    if (found > 0) log.info({ op: 'intake', found }, 'start scan: triggers found in OUT folders queued');
    // A safety net under the watcher (file-system events can be missed, e.g. on network filesystems).
    // One scan at a time: with thousands of triggers waiting a scan outlasts the interval, and
    // overlapping scans would eat the CPU the routing needs (the backlog would only grow).
    let scanning = false;
    rescan = setInterval(() => {
      if (scanning) return;
      scanning = true;
      scan()
        .catch((err: unknown) => log.warn({ op: 'intake', err }, 'periodic scan of the OUT folders failed'))
        .finally(() => (scanning = false));
    }, opts.rescanEveryMs ?? 5000);
    rescan.unref();
  }

  return {
    offer,
    scan,
    async stop() {
      if (rescan) clearInterval(rescan);
      uploadEvents.off('closed', onClosed);
      uploadEvents.off('renamed', onRenamed);
      await watcher?.close();
    },
  };
}
