import { failure } from './sftp-error.js';

/**
 * Open SFTP handles across all sessions of this process (issue: 2 connections × 10 channels × 1,030
 * handles exhausted the descriptors, and PostgreSQL's next connect failed with EMFILE). Each system
 * may hold `perSystem` handles over all its sessions; all systems together what the descriptor
 * limit leaves after a reserve for the database, the queue, HTTP and the SSH sockets themselves.
 */
export class HandleBudget {
  private readonly bySystem = new Map<string, number>();
  private total = 0;

  /** `room()`: descriptors the handles may still use in all (Infinity when unknown). */
  constructor(
    private readonly perSystem: number,
    private readonly room: () => number = () => Infinity,
  ) {}

  /** Throws the refusal a client sees when `system` may not open another handle now. */
  check(system: string): void {
    if ((this.bySystem.get(system) ?? 0) >= this.perSystem) {
      throw failure(`Too many open handles (${this.perSystem}) for ${system} across its sessions; close some before opening more`);
    }
    if (this.total >= this.room()) {
      throw failure('The server has too many files open right now; close some handles or try again in a moment');
    }
  }

  take(system: string): void {
    this.check(system);
    this.bySystem.set(system, (this.bySystem.get(system) ?? 0) + 1);
    this.total++;
  }

  give(system: string): void {
    const n = this.bySystem.get(system) ?? 0;
    if (n <= 0) return;
    if (n === 1) this.bySystem.delete(system);
    else this.bySystem.set(system, n - 1);
    this.total--;
  }

  /** Handles open in this process. */
  get open(): number {
    return this.total;
  }
}
