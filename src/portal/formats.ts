/**
 * How the pages write dates, sizes, counts and durations: Danish or English conventions, Danish
 * time. Values only — words come from the catalogues, but for the units Intl writes in the language.
 */
export interface Formats {
  date(d: Date | string | null | undefined): string;
  dateTime(d: Date | string | null | undefined): string;
  /** A count; nothing ('') for none (an authority's inhabitants not yet known). */
  number(n: number | null | undefined): string;
  /** A size in B, KiB, MiB…; `'up'` rounds up, for a size over a limit (20 MiB and 1 byte reads '20,1 MiB', never the limit's '20 MiB'). */
  bytes(n: number, round?: 'up'): string;
  duration(seconds: number): string;
  /** An amount in øre as kroner. */
  dkk(ore: number | null | undefined): string;
}

/** Made once per language, not per page: building an Intl formatter costs far more than formatting with it. */
const FORMATS: Record<'da' | 'en', Formats> = { da: build('da'), en: build('en') };

export function formatsFor(language: 'da' | 'en'): Formats {
  return FORMATS[language];
}

function build(language: 'da' | 'en'): Formats {
  const locale = language === 'da' ? 'da-DK' : 'en-GB';
  const day = new Intl.DateTimeFormat(locale, { timeZone: 'Europe/Copenhagen', year: 'numeric', month: '2-digit', day: '2-digit' });
  const moment = new Intl.DateTimeFormat(locale, { timeZone: 'Europe/Copenhagen', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const count = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const one = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const kroner = new Intl.NumberFormat(locale, { style: 'currency', currency: 'DKK', minimumFractionDigits: 2 });
  // The units are words: '3 timer' / '3 hours' in the page's language, never an English 'h'.
  const [seconds, minutes, hours, days] = (['second', 'minute', 'hour', 'day'] as const).map(
    (unit) => new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long', maximumFractionDigits: 0 }),
  ) as [Intl.NumberFormat, Intl.NumberFormat, Intl.NumberFormat, Intl.NumberFormat];
  const toDate = (d: Date | string) => (d instanceof Date ? d : new Date(d));
  return {
    date: (d) => (d ? day.format(toDate(d)) : ''),
    dateTime: (d) => (d ? moment.format(toDate(d)) : ''),
    number: (n) => (n === null || n === undefined ? '' : count.format(n)),
    bytes: (n, round) => {
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let v = n;
      let u = 0;
      while (v >= 1024 && u < units.length - 1) {
        v /= 1024;
        u++;
      }
      // n is whole bytes and 1024 a power of two: v * 10 is exact for any real size, so ceil adds nothing spurious.
      if (round === 'up' && u > 0) {
        v = Math.ceil(v * 10) / 10;
        if (v >= 1024 && u < units.length - 1) [v, u] = [v / 1024, u + 1];
      }
      return `${u === 0 ? count.format(v) : one.format(v)} ${units[u]}`;
    },
    // Integer øre to kroner for display only; the amounts themselves stay whole øre (src/prices).
    dkk: (ore) => (ore === null || ore === undefined ? '' : kroner.format(ore / 100)),
    duration: (s) => (s < 120 ? seconds.format(s) : s < 7200 ? minutes.format(Math.round(s / 60)) : s < 172800 ? hours.format(Math.round(s / 3600)) : days.format(Math.round(s / 86400))),
  };
}
