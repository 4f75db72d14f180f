import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { log } from '../../log.js';
import { uploadEvents, type UploadClosed, type UploadRenamed } from '../../sftp/upload-events.js';
import { dataLayout, DIR_MODE, isTriggerName, outDir } from '../../storage/homes.js';
import { submit, submitMany, type QueuedJob, type RoutingQueue } from '../routing-queue.js';
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

/** A trigger file to queue: its owner, its name in OUT, when its upload closed (else its mtime). */
interface TriggerOffer {
  username: string;
  name: string;
  closedAt?: number;
}

/** Triggers a scan queues per round trip to the queue. */
const SCAN_BATCH = 500;

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

  // Triggers queued lately, by trigger key, with the job id they were queued under. A trigger is
  // queued again under the same id, so a job still waiting or running makes that a no-op: the first
  // rescan after the start scan (whose ids are per boot) adds no second job for every trigger still
  // waiting. A job that ended while its trigger is still in OUT (it failed before taking it; it
  // found it gone while another transfer held it for a moment and gave it back) is queued anew by
  // the next rescan. The watcher and upload events, which see one file many times, queue it once a
  // minute at most.
  const recentlyQueued = new Map<string, { jobId: string; at: number }>();
  const queueTriggers = async (offers: TriggerOffer[], jobIdSuffix = '', rescan = false): Promise<void> => {
    const seen = await Promise.all(
      offers.map(async (o) => {
        try {
          const st = await stat(join(outDir(opts.dataDir, o.username), o.name), { bigint: true });
          return st.isFile() ? { ...o, st } : undefined;
        } catch {
          return undefined; // already taken by the router, or deleted
        }
      }),
    );
    const now = Date.now();
    const jobs: QueuedJob[] = [];
    for (const o of seen) {
      if (!o) continue;
      const key = triggerKey(o.username, o.name, o.st);
      const last = recentlyQueued.get(key);
      if (last !== undefined && !rescan && now - last.at < 60_000) continue;
      const jobId = last?.jobId ?? triggerJobId(key) + jobIdSuffix;
      jobs.push({ jobId, data: { kind: 'trigger', username: o.username, triggerName: o.name, key, closedAt: o.closedAt ?? Number(o.st.mtimeMs) } });
    }
    if (jobs.length === 1) await submit(opts.queue, jobs[0]!.data, jobs[0]!.jobId);
    else if (jobs.length > 1) await submitMany(opts.queue, jobs);
    for (const j of jobs) recentlyQueued.set((j.data as { key: string }).key, { jobId: j.jobId, at: now });
    if (recentlyQueued.size > 50_000) {
      for (const [key, q] of recentlyQueued) if (now - q.at >= 60_000) recentlyQueued.delete(key);
    }
  };
  const offer = (username: string, name: string, closedAt?: number, jobIdSuffix = ''): Promise<void> => queueTriggers([{ username, name, closedAt }], jobIdSuffix);
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
  let stopped = false;
  /**
   * Lists every OUT, then queues what it found in batches (one round trip to the queue per batch).
   * Without `jobIdSuffix`: a rescan, which queues again what it queued before (a no-op for a live job).
   */
  const scan = async (jobIdSuffix?: string): Promise<number> => {
    let users: string[] = [];
    try {
      users = await readdir(homes);
    } catch {
      return 0;
    }
    const found: TriggerOffer[] = [];
    for (const user of users) {
      watcher?.add(user);
      let names: string[];
      try {
        names = await readdir(outDir(opts.dataDir, user));
      } catch {
        continue;
      }
      for (const name of names) if (isTriggerName(name)) found.push({ username: user, name });
    }
    for (let i = 0; i < found.length && !stopped; i += SCAN_BATCH) await queueTriggers(found.slice(i, i + SCAN_BATCH), jobIdSuffix ?? '', jobIdSuffix === undefined);
    return found.length;
  };

  let rescan: NodeJS.Timeout | undefined;
  // One scan at a time: with thousands of triggers waiting a scan outlasts the interval, and
  // overlapping scans would eat the CPU the routing needs (the backlog would only grow).
  let scanning: Promise<unknown> | undefined;
  const scanAlone = (jobIdSuffix?: string, then?: (found: number) => void) => {
    if (scanning) return;
    scanning = scan(jobIdSuffix)
      .then(then)
      .catch((err: unknown) => log.warn({ op: 'intake', err }, 'scan of the OUT folders failed'))
      .finally(() => (scanning = undefined));
  };
  if (opts.watch) {
    await mkdir(homes, { recursive: true, mode: DIR_MODE });
    watcher = watchOutFolders(homes, (user, name) => offerLogged(user, name), { alreadyQueued });
    await watcher.ready;
    // The start scan runs behind the start: a node restarted over a backlog of thousands of
    // triggers answers (SFTP, /readyz) at once while the backlog is queued and routed. It uses its
    // own job ids: a job of a node that died may still sit 'active' under the plain id.
    scanAlone(`-scan-${boot}`, (found) => found > 0 && log.info({ op: 'intake', found }, 'start scan: triggers found in OUT folders queued'));
    // A safety net under the watcher (file-system events can be missed, e.g. on network filesystems).
    rescan = setInterval(() => scanAlone(), opts.rescanEveryMs ?? 5000);
    rescan.unref();
  }

  return {
    offer,
    scan,
    async stop() {
      stopped = true;
      if (rescan) clearInterval(rescan);
      await scanning; // a scan stops between batches; the triggers it did not queue stay in OUT for the next start
      uploadEvents.off('closed', onClosed);
      uploadEvents.off('renamed', onRenamed);
      await watcher?.close();
    },
  };
}
