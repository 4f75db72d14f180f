/** SPEC §5: every code a receipt can carry, in the order the checks run. */
export const ERROR_CODES = {
  TRIGGER_MALFORMED: { number: 1001, description: 'The trigger is not well-formed XML, declares a DTD or entity, has the wrong root element or namespace, or is over 64 KiB' },
  TRIGGER_INVALID: { number: 1002, description: 'A required trigger element is missing or of the wrong form, or SFTPDynamicRoutingInfo is missing' },
  SENDER_MISMATCH: { number: 1003, description: 'Sender or SenderIt-system is not the logged-in system' },
  FILE_MISSING: { number: 1004, description: 'The data file named by FileName is not in /OUT' },
  SIZE_MISMATCH: { number: 1005, description: "The data file's size differs from SizeInBytes" },
  CHECKSUM_MISMATCH: { number: 1006, description: "The data file's SHA-256 differs from fu:Sha256" },
  INFREF_UNKNOWN: { number: 1101, description: 'No such InfRef' },
  INFREF_NOT_OWNED: { number: 1102, description: 'The InfRef belongs to another sending system' },
  INFREF_REVOKED: { number: 1103, description: 'The InfRef is revoked, or superseded by a newer version whose declaration is approved' },
  GDPR_NOT_APPROVED: { number: 1104, description: "The InfRef's GDPR declaration is missing, pending or rejected" },
  AUTHORITY_UNKNOWN: { number: 1201, description: 'SenderAuthority or RecipientAuthority is not a known authority' },
  RECIPIENT_UNKNOWN: { number: 1202, description: 'A named recipient (UUID or user name) does not exist' },
  RECIPIENT_DISABLED: { number: 1203, description: 'A recipient is disabled' },
  ROUTE_MISSING: { number: 1204, description: 'No route valid on the selection date for (sender, InfRef, recipient, RecipientAuthority)' },
  AGREEMENT_MISSING: { number: 1205, description: 'Production only: no approved service agreement for the sender (send) or a recipient (fetch) with that authority' },
  DELIVERY_FAILED: { number: 1901, description: 'Delivery still failed after its retries (the operator can retry it)' },
} as const satisfies Record<string, { number: number; description: string }>;

export type ErrorCodeName = keyof typeof ERROR_CODES;

export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as ErrorCodeName[];

/** The symbolic name for a receipt's number, e.g. 1204 → ROUTE_MISSING. */
export function errorCodeName(number: number): ErrorCodeName | undefined {
  return ERROR_CODE_NAMES.find((n) => ERROR_CODES[n].number === number);
}
