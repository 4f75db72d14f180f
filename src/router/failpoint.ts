import { writeSync } from 'node:fs';

/**
 * Crash tests only: with FILUDVEKSLING_FAILPOINT=<name> the process dies (SIGKILL, no cleanup, like
 * a power cut or kill -9) the moment routing reaches that point. Never set in production.
 */
const armed = process.env.FILUDVEKSLING_FAILPOINT;

export const FAILPOINTS = [
  'received', // transfer row committed, trigger still in OUT
  'trigger-taken', // trigger moved into the spool
  'file-taken', // data file moved into the spool
  'validated', // decision committed, nothing placed
  'data-placed', // first recipient's data file linked, no metadata yet
  'metadata-written', // first recipient's metadata written
  'delivered', // delivery committed, no receipt yet
  'receipt-written', // receipt in the sender's IN, spool not yet cleared
  'rejected', // rejection committed, nothing quarantined
  'quarantined', // quarantine done, no receipt yet
  'failure-noticed', // out of retries: failed and its notices written, not committed
  'failure-committed', // failed and its notices committed, the 1901 receipt not yet written
] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

export function failpoint(name: Failpoint): void {
  if (armed !== name) return;
  // Written synchronously: the logger's buffer dies with the process.
  writeSync(2, `${JSON.stringify({ level: 60, time: Date.now(), pid: process.pid, op: 'failpoint', failpoint: name, msg: `failpoint ${name}: killing the process` })}\n`);
  process.kill(process.pid, 'SIGKILL');
}
