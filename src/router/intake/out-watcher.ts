import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../../log.js';
import { isTriggerName } from '../../storage/homes.js';

export interface OutWatcher {
  /** Resolves once every OUT that exists now is watched. */
  ready: Promise<void>;
  /** Watches `<homes>/<user>/OUT` if it is not watched yet (a home made after the start). */
  add(user: string): void;
  close(): Promise<void>;
}

/**
 * Watches every system's OUT (`<homes>/<user>/OUT/*.trigger`) for triggers that did not come through
 * this node's SFTP server: another node's uploads on a shared data folder, files copied in by hand.
 * One inotify watch per OUT (plus one on the homes folder, for homes made later), each event naming
 * the one file it is about: nothing re-reads or stats a whole folder when one file changes (a
 * watcher that re-listed OUT on every event cost a third of the router's CPU with a backlog in OUT).
 * A trigger must stand still for `settleMs` first (same size and mtime at two looks: a copy in
 * progress is not a trigger yet). `alreadyQueued` names triggers queued another way (upload events).
 */
export function watchOutFolders(
  homes: string,
  onTrigger: (username: string, name: string) => void,
  opts: { settleMs?: number; alreadyQueued?: (path: string) => boolean } = {},
): OutWatcher {
  const settleMs = opts.settleMs ?? 100;
  const outs = new Map<string, FSWatcher>();
  const settling = new Map<string, { timer?: NodeJS.Timeout; size: number; mtimeMs: number }>();
  let closed = false;

  const look = (user: string, name: string, path: string, before?: { size: number; mtimeMs: number }) => {
    stat(path).then(
      (st) => {
        if (closed) return;
        if (!st.isFile()) return void settling.delete(path);
        if (before && before.size === st.size && before.mtimeMs === st.mtimeMs) {
          settling.delete(path);
          if (!opts.alreadyQueued?.(path)) onTrigger(user, name);
          return;
        }
        settling.set(path, { timer: setTimeout(() => look(user, name, path, settling.get(path)), settleMs), size: st.size, mtimeMs: st.mtimeMs });
      },
      () => settling.delete(path), // gone again (taken, deleted, renamed away)
    );
  };
  const seen = (user: string, name: string) => {
    if (closed || !isTriggerName(name)) return;
    const path = join(homes, user, 'OUT', name);
    if (settling.has(path) || opts.alreadyQueued?.(path)) return; // the pending look compares size and mtime anyway
    settling.set(path, { size: -1, mtimeMs: -1 });
    look(user, name, path);
  };

  const add = (user: string) => {
    if (closed || outs.has(user) || user.startsWith('.')) return;
    const dir = join(homes, user, 'OUT');
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: false }, (_event, name) => {
        if (typeof name === 'string') seen(user, name);
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') log.warn({ op: 'watch', err, system: user }, 'could not watch an OUT folder; the periodic scan covers it');
      return;
    }
    w.on('error', () => {
      // The OUT (or the home) was removed: forget it; a home made again is watched by the next scan.
      w.close();
      if (outs.get(user) === w) outs.delete(user);
    });
    outs.set(user, w);
  };

  let top: FSWatcher | undefined;
  try {
    // A new home shows up here; its OUT may follow a moment later, so look again shortly after too.
    top = watch(homes, { persistent: false }, (_event, name) => {
      if (typeof name !== 'string') return;
      add(name);
      setTimeout(() => add(name), 200).unref();
    });
    top.on('error', (err) => log.error({ op: 'watch', err }, 'watching the homes folder failed; the periodic scan still finds triggers'));
  } catch (err) {
    log.error({ op: 'watch', err }, 'watching the homes folder failed; the periodic scan still finds triggers');
  }
  const ready = readdir(homes).then(
    (users) => users.forEach(add),
    () => undefined,
  );

  return {
    ready,
    add,
    async close() {
      closed = true;
      top?.close();
      for (const w of outs.values()) w.close();
      outs.clear();
      for (const s of settling.values()) clearTimeout(s.timer);
      settling.clear();
    },
  };
}
