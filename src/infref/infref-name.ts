/** The printed form of an InfRef: FagsystemdefineredeDataRefGDPR<n>_<v>, no leading zeros (SPEC §1). */
export const INFREF_PREFIX = 'FagsystemdefineredeDataRefGDPR';

export interface InfRefName {
  number: number;
  version: number;
}

const PATTERN = /^FagsystemdefineredeDataRefGDPR([1-9][0-9]{0,8})_([1-9][0-9]{0,8})$/;

/** Parses the printed form; undefined when the text is not an InfRef. */
export function parseInfRef(text: string): InfRefName | undefined {
  const m = PATTERN.exec(text.trim());
  return m ? { number: Number(m[1]), version: Number(m[2]) } : undefined;
}

export function formatInfRef(ref: InfRefName): string {
  return `${INFREF_PREFIX}${ref.number}_${ref.version}`;
}

/** Every version of an InfRef number, as routes take it (they name the number): FagsystemdefineredeDataRefGDPR<n>_*. */
export function everyVersionOf(number: number): string {
  return `${INFREF_PREFIX}${number}_*`;
}

export const INFREF_FORM_HINT = `${INFREF_PREFIX}<n>_<v>, e.g. ${INFREF_PREFIX}12_1 (numbers without leading zeros)`;
