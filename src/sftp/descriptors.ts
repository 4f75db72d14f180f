import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger } from '../log.js';

export interface DescriptorLimit {
  soft: number;
  hard: number;
}

/** RLIMIT_NOFILE of this process (Linux: /proc/self/limits); undefined where it cannot be read. */
export function descriptorLimit(): DescriptorLimit | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line?.match(/(\d+|unlimited)\s+(\d+|unlimited)/)?.slice(1) ?? []).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
    return soft !== undefined && hard !== undefined ? { soft, hard } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Raises the soft RLIMIT_NOFILE to the hard one and logs both. Node raises it itself at start on
 * Linux; where it has not (or something lowered it since), util-linux's `prlimit` on our own pid
 * does (Node has no setrlimit). Returns the limit in force.
 */
export function raiseDescriptorLimit(log: Logger): DescriptorLimit | undefined {
  let limit = descriptorLimit();
  if (!limit) {
    log.warn({ op: 'sftp' }, 'cannot read the open-file limit (no /proc/self/limits); SFTP handles are capped per system only');
    return undefined;
  }
  if (limit.soft < limit.hard && Number.isFinite(limit.hard)) {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${limit.hard}:${limit.hard}`], { stdio: 'ignore' });
      limit = descriptorLimit() ?? limit;
    } catch {
      log.warn({ op: 'sftp', ...limit }, `could not raise the open-file limit to ${limit.hard} (prlimit from util-linux missing?); start the server with 'ulimit -n ${limit.hard}'`);
    }
  }
  log.info({ op: 'sftp', soft: limit.soft, hard: limit.hard }, `open-file limit: soft ${limit.soft}, hard ${limit.hard}`);
  return limit;
}
