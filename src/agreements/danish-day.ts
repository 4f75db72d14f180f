/** 'YYYY-MM-DD' of `now` in Danish time: the calendar day agreements and routes are valid on. */
export function danishDay(now: Date = new Date()): string {
  return DANISH_DAY.format(now);
}
// sv-SE writes dates as YYYY-MM-DD.
const DANISH_DAY = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Copenhagen' });
