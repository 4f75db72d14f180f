import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';

/**
 * The identity of one trigger file: its owner, name, inode, modification time and size. The upload
 * event, the watcher and the start scan all see the same file and so compute the same key (the job
 * id, and transfers.trigger_key); a trigger uploaded again later is a new file with a new key.
 */
export function triggerKey(username: string, name: string, st: BigIntStats): string {
  return createHash('sha256')
    .update(`${username}\0${name}\0${st.dev}\0${st.ino}\0${st.mtimeNs}\0${st.size}`)
    .digest('hex')
    .slice(0, 40);
}

/** BullMQ job ids may not contain ':' nor be plain integers. */
export function triggerJobId(key: string): string {
  return `trg-${key}`;
}
