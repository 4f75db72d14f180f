import { chmod, mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where everything lives under FILUDVEKSLING_DATA. One place, so the SFTP edge, the router and the
 * watcher agree on it.
 *
 *   <data>/homes/<user>/OUT/            what the system uploads (data files, then *.trigger)
 *   <data>/homes/<user>/IN/             its receipts (*.sftpreceipt), and with --inbox flat its deliveries
 *   <data>/homes/<user>/IN/<folder>/    deliveries for one authority (per-authority inbox)
 *   <data>/spool/                       the platform's working area (same filesystem as homes: hard links)
 *   <data>/quarantine/<transferId>/     rejected data files and triggers, kept RETENTION_DAYS
 *   <data>/hostkeys/                    the SSH host keys
 *   <data>/postgres/                    the embedded PostgreSQL cluster
 */
export interface DataLayout {
  root: string;
  homes: string;
  spool: string;
  quarantine: string;
  hostkeys: string;
}

export function dataLayout(dataDir: string): DataLayout {
  return {
    root: dataDir,
    homes: join(dataDir, 'homes'),
    spool: join(dataDir, 'spool'),
    quarantine: join(dataDir, 'quarantine'),
    hostkeys: join(dataDir, 'hostkeys'),
  };
}

export function homeDir(dataDir: string, username: string): string {
  return join(dataDir, 'homes', username);
}

export function outDir(dataDir: string, username: string): string {
  return join(homeDir(dataDir, username), 'OUT');
}

export function inDir(dataDir: string, username: string): string {
  return join(homeDir(dataDir, username), 'IN');
}

/** Suffixes the platform and clients use for files that are not (yet) complete; routing ignores them. */
export const TRIGGER_SUFFIX = '.trigger';
export const RECEIPT_SUFFIX = '.sftpreceipt';
export const METADATA_SUFFIX = '.metadata';

/** A trigger's name: `*.trigger`, not hidden (temps and the platform's own working files start with '.'). */
export function isTriggerName(name: string): boolean {
  return name.endsWith(TRIGGER_SUFFIX) && !name.startsWith('.') && name.length > TRIGGER_SUFFIX.length;
}

/**
 * Modes of what the platform makes under the data folder (before the umask): folders (homes, spool,
 * quarantine, inboxes) 0750, files (delivered data, metadata, receipts) 0640 — readable by the
 * service's group (backups, an operator's tools), by no one else.
 */
export const DIR_MODE = 0o750;
export const FILE_MODE = 0o640;

/** Folders made before these modes were set keep theirs; the router tightens the three roots at start. */
export async function tightenDataFolders(dataDir: string): Promise<void> {
  const layout = dataLayout(dataDir);
  for (const dir of [layout.homes, layout.spool, layout.quarantine]) {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    const st = await stat(dir);
    if ((st.mode & 0o777 & ~DIR_MODE) !== 0) await chmod(dir, st.mode & DIR_MODE);
  }
}

/** Makes a folder's entries durable (a new link or rename in it survives a power cut once this returns). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
