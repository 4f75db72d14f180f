import { relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { log } from '../log.js';
import { TRIGGER_SUFFIX } from '../storage/homes.js';

/** A trigger's name: `*.trigger`, not hidden (temps and the platform's own working files start with '.'). */
export function isTriggerName(name: string): boolean {
  return name.endsWith(TRIGGER_SUFFIX) && !name.startsWith('.') && name.length > TRIGGER_SUFFIX.length;
}

/**
 * Watches every system's OUT (`<homes>/<user>/OUT/*.trigger`) for triggers that did not come through
 * this node's SFTP server: another node's uploads on a shared data folder, files copied in by hand.
 * chokidar 5 has no globs, so it watches the homes folder two levels deep and ignores everything that
 * is not an OUT folder or a trigger in one. A file must stand still for `settleMs` first (a copy in
 * progress is not a trigger yet). `alreadyQueued` names triggers queued another way (upload events).
 */
export function watchOutFolders(
  homes: string,
  onTrigger: (username: string, name: string) => void,
  opts: { settleMs?: number; alreadyQueued?: (path: string) => boolean } = {},
): FSWatcher {
  const settleMs = opts.settleMs ?? 100;
  const homesSlash = homes.endsWith(sep) ? homes : homes + sep;
  const ignored = (path: string, stats?: { isFile(): boolean; isDirectory(): boolean }): boolean => {
    // Triggers this node's upload events queued a moment ago need no watching (nor stat polling).
    if (opts.alreadyQueued?.(path)) return true;
    // Called for every entry of every OUT chokidar re-reads, so plain string work, no path resolving.
    if (path === homes || path === homesSlash) return false;
    if (!path.startsWith(homesSlash)) return !homesSlash.startsWith(path.endsWith(sep) ? path : path + sep);
    const parts = path.slice(homesSlash.length).split(sep);
    if (parts.length === 1) return false;
    if (parts[1] !== 'OUT' || parts.length > 3) return true;
    if (parts.length === 3) return stats ? !stats.isFile() || !isTriggerName(parts[2]!) : !isTriggerName(parts[2]!);
    return false;
  };
  const watcher = watch(homes, {
    depth: 2,
    ignoreInitial: true,
    ignored,
    awaitWriteFinish: { stabilityThreshold: settleMs, pollInterval: Math.max(20, Math.floor(settleMs / 2)) },
  });
  const seen = (path: string) => {
    const parts = relative(homes, path).split(sep);
    if (parts.length === 3 && parts[1] === 'OUT' && isTriggerName(parts[2]!)) onTrigger(parts[0]!, parts[2]!);
  };
  // 'change' too: a new trigger under the name of one just taken can reach chokidar before the removal did.
  watcher.on('add', seen);
  watcher.on('change', seen);
  watcher.on('error', (err) => log.error({ op: 'watch', err }, 'watching the OUT folders failed'));
  return watcher;
}
