import { log } from '../log.js';

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
] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

export function failpoint(name: Failpoint): void {
  if (armed !== name) return;
  log.fatal({ op: 'failpoint', failpoint: name }, `failpoint ${name}: killing the process`);
  process.kill(process.pid, 'SIGKILL');
}
