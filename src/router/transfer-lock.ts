import type { PoolClient } from '../db/pool.js';
import { tryLockTransfer, unlockTransfer } from './sql/lock-transfer.js';

/**
 * The one lock a routing job holds: "this connection routes transfer X" (a session advisory lock,
 * see sql/lock-transfer.ts). The processor makes it for its connection and lets go of it at the end,
 * whatever happened; the steps only tell it when a statement of theirs took or released it.
 */
export class TransferLock {
  private held: string | undefined;

  constructor(private readonly client: PoolClient) {}

  /** The statement that made the transfer's row took the lock too (insertReceived). */
  takenWithRow(transferId: string): void {
    this.held = transferId;
  }

  /** Takes the lock unless another worker holds it. True when this job holds it now. */
  async take(transferId: string): Promise<boolean> {
    if (this.held === transferId) return true;
    if (!(await tryLockTransfer(this.client, transferId))) return false;
    this.held = transferId;
    return true;
  }

  /** The statement that recorded the delivery let go of the lock (recordDelivered with `unlock`). */
  releasedWithRecord(): void {
    this.held = undefined;
  }

  /** Lets go of the lock if it is still held. */
  async release(): Promise<void> {
    if (this.held === undefined) return;
    const id = this.held;
    this.held = undefined;
    await unlockTransfer(this.client, id);
  }
}
