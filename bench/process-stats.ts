/** CPU time and memory of processes, read from /proc (Linux). */
import { readFile, readdir } from 'node:fs/promises';

/** CPU seconds (user + system) a process has used so far; with its reaped children's when asked. */
export async function processCpuSeconds(pid: number, withChildren = false): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // fields after "pid (comm) ": state=0, … utime=11, stime=12, cutime=13, cstime=14 (in clock ticks)
  const ticks = Number(stat[11]) + Number(stat[12]) + (withChildren ? Number(stat[13]) + Number(stat[14]) : 0);
  return ticks / 100;
}

/** Resident set size in bytes (0 once the process is gone). */
export async function processRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** The largest RSS of a process, sampled every `everyMs` until stopped. */
export function sampleMaxRss(pid: number, everyMs = 100): { stop(): Promise<number> } {
  let max = 0;
  const timer = setInterval(() => void processRss(pid).then((r) => (max = Math.max(max, r))), everyMs);
  return {
    async stop() {
      clearInterval(timer);
      return Math.max(max, await processRss(pid));
    },
  };
}

/**
 * CPU seconds of a process tree, sampled: every process under `root` is read while it lives and
 * its own utime+stime kept (sshd forks and re-execs per connection; what a session process used in
 * its last < 20 ms before exiting is missed).
 */
export class TreeCpu {
  private readonly seen = new Map<number, number>();
  private readonly baseline = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly root: number) {}
  async start(): Promise<void> {
    this.seen.clear();
    this.baseline.clear();
    for (const [pid, ticks] of await this.tree()) this.baseline.set(pid, ticks); // what ran before does not count
    this.timer = setInterval(() => void this.sample(), 20);
  }
  async stop(): Promise<number> {
    clearInterval(this.timer);
    await this.sample();
    let ticks = 0;
    for (const t of this.seen.values()) ticks += t;
    return ticks / 100;
  }
  private async sample(): Promise<void> {
    for (const [pid, ticks] of await this.tree()) this.seen.set(pid, ticks - (this.baseline.get(pid) ?? 0));
  }
  /** pid → own utime+stime (ticks) for root and its descendants (walked through each task's children file in /proc). */
  private async tree(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    const todo = [this.root];
    while (todo.length) {
      const pid = todo.pop()!;
      const rest = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.split(' ');
      if (!rest) continue;
      out.set(pid, Number(rest[11]) + Number(rest[12]));
      for (const task of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
        const kids = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
        for (const k of kids.split(' ')) if (k.trim()) todo.push(Number(k));
      }
    }
    return out;
  }
}
