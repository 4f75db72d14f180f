/** The time, injectable: tests set it instead of sleeping (lockouts, link and session expiry). */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
