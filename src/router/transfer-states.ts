/**
 * Every state a transfer can be in, and which of them are still on their way. The one list: the SQL
 * CHECK on transfers.status is tested against it (test/router-states.test.ts), and queries name the
 * in-flight states through `IN_FLIGHT_SQL`.
 *
 *   received ──decide──▶ validated ──place──▶ delivering ──▶ delivered (finished)
 *       └──────────────▶ rejected | resent ──quarantine, receipt──▶ (finished)
 *   received | validated | delivering ──out of retries──▶ failed ──transfer retry──▶ received | validated
 *   delivered | rejected | failed ──retention──▶ expired
 */
export const TRANSFER_STATES = ['received', 'validated', 'delivering', 'delivered', 'rejected', 'resent', 'failed', 'expired'] as const;
export type TransferState = (typeof TRANSFER_STATES)[number];

/** A router still owes these a decision or a delivery; a job out of retries records them as failed. */
export const IN_FLIGHT_STATES = ['received', 'validated', 'delivering'] as const satisfies readonly TransferState[];
export type InFlightState = (typeof IN_FLIGHT_STATES)[number];

/** `('received', 'validated', 'delivering')`, for `status IN ${IN_FLIGHT_SQL}`. */
export const IN_FLIGHT_SQL = `(${IN_FLIGHT_STATES.map((s) => `'${s}'`).join(', ')})`;

export function isInFlight(status: TransferState): status is InFlightState {
  return (IN_FLIGHT_STATES as readonly TransferState[]).includes(status);
}
