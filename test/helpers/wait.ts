/**
 * The suite's two ways to let time pass. Prefer `waitUntil` (wait for something a user could
 * observe) and an injected clock (time-dependent logic); `sleep` is for keeping a situation going
 * for a while on purpose (a fault left on while senders keep uploading), never for "long enough".
 */

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns something other than undefined or false, and resolves to that;
 * fails naming `what` after `timeoutMs`.
 */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
