import type { SftpAttrs } from './file-attrs.js';

/** A STAT of a file this session uploaded answers for this long, even after routing took it. */
export const RECENT_UPLOAD_MS = 30_000;

/**
 * The STAT grace (SPEC §3): clients check their work right after an upload (Paramiko's `put` STATs
 * the file after closing it; WinSCP sets its times), and routing may already have taken the file
 * from /OUT. For RECENT_UPLOAD_MS after its close, a STAT or SETSTAT of a name this session uploaded
 * answers from what the upload left, as if the file were still there.
 */
export class RecentUploads {
  private readonly byName = new Map<string, { attrs: SftpAttrs; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  remember(name: string, attrs: SftpAttrs): void {
    const now = this.now();
    // Oldest first (a name remembered again moves to the end): the expired ones are at the front,
    // so each upload looks at those and the first still in its grace, not at all of them.
    for (const [k, v] of this.byName) {
      if (now - v.at <= RECENT_UPLOAD_MS) break;
      this.byName.delete(k);
    }
    this.byName.delete(name);
    this.byName.set(name, { attrs, at: now });
  }

  /** The attributes an upload of `name` left, while within the grace. */
  attrs(name: string): SftpAttrs | undefined {
    const e = this.byName.get(name);
    return e && this.now() - e.at <= RECENT_UPLOAD_MS ? e.attrs : undefined;
  }

  /** SETSTAT of a name routing already took: answered as if the change applied. */
  update(name: string, change: Partial<SftpAttrs>): boolean {
    const attrs = this.attrs(name);
    if (!attrs) return false;
    this.remember(name, { ...attrs, ...change });
    return true;
  }

  /** RENAME within /OUT: the grace follows the file to its new name. */
  renamed(from: string, to: string): void {
    const attrs = this.attrs(from);
    if (attrs) this.remember(to, attrs);
  }

  forget(name: string): void {
    this.byName.delete(name);
  }
}
