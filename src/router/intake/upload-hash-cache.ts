import { stat } from 'node:fs/promises';

interface Known {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  sha256: string;
}

/**
 * SHA-256s the SFTP edge computed while files were uploaded, so the router need not read a file a
 * second time. An entry counts only while the file is unchanged: same inode, size and mtime (a
 * rename into the spool keeps all three). In-process: a router on another node reads the file.
 */
export class UploadHashCache {
  private readonly known = new Map<string, Known>();

  constructor(private readonly max = 10_000) {}

  /** Called on an upload's 'closed' event; notes the file's identity with its hash. */
  async remember(absPath: string, sha256: string | undefined): Promise<void> {
    if (!sha256) return;
    try {
      const st = await stat(absPath, { bigint: true });
      this.known.delete(absPath);
      this.known.set(absPath, { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, sha256 });
      if (this.known.size > this.max) this.known.delete(this.known.keys().next().value!);
    } catch {
      /* already gone (routed, deleted): nothing to remember */
    }
  }

  /** A RENAME inside OUT (WinSCP: `x.filepart` → `x`) keeps the file, so it keeps its hash. */
  renamed(fromPath: string, toPath: string): void {
    const k = this.known.get(fromPath);
    if (!k) return;
    this.known.delete(fromPath);
    this.known.set(toPath, k);
  }

  /** The hash uploaded at `originalPath` if `nowAt` is that same, unchanged file; forgets the entry. */
  async take(originalPath: string, nowAt: string): Promise<string | undefined> {
    const k = this.known.get(originalPath);
    if (!k) return undefined;
    this.known.delete(originalPath);
    try {
      const st = await stat(nowAt, { bigint: true });
      return st.dev === k.dev && st.ino === k.ino && st.size === k.size && st.mtimeNs === k.mtimeNs ? k.sha256 : undefined;
    } catch {
      return undefined;
    }
  }
}
