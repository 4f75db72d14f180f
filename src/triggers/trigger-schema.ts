import { Ajv, type ErrorObject } from 'ajv';
import { INFREF_FORM_HINT, parseInfRef } from '../infref/infref-name.js';
import { TriggerError, quote } from './trigger-error.js';

/**
 * The values read from a trigger, keyed by element name, before they are checked. parseTrigger()
 * fills it leniently (SPEC §4, §10); triggerSchema below decides whether it is a usable trigger.
 */
export interface RawTrigger {
  FileDescriptor?: {
    FileName?: string;
    SizeInBytes?: string;
    Sender?: string;
    SendersFileId?: string;
    Recipients?: string[];
  };
  SFTPDynamicRoutingInfo?: {
    InfRef?: string;
    'SenderIt-system'?: string;
    SenderAuthority?: string;
    TransactionId?: string;
    SenderTimestamp?: string;
    'RecipientIt-system'?: string;
    RecipientAuthority?: string;
    RouteSelectionValueDate?: string;
    Sha256?: string;
  };
}

/** SPEC §4 FileName: no / \\ : * ? " < > |, no C0/C1 control characters, no leading dot (length is checked in bytes). */
export const FILE_NAME_PATTERN = '^[^./\\\\:*?"<>|\\u0000-\\u001f\\u007f-\\u009f][^/\\\\:*?"<>|\\u0000-\\u001f\\u007f-\\u009f]*$';
const fileNameRegExp = new RegExp(FILE_NAME_PATTERN, 'u');

/** Whether a name is acceptable as a trigger's FileName (SPEC §4). */
export function isValidFileName(name: string): boolean {
  return fileNameRegExp.test(name) && Buffer.byteLength(name, 'utf8') <= 255;
}

/** Names the platform gives its own files; a data file so named would be taken for one (SPEC §5). */
export const RESERVED_SUFFIXES = ['.trigger', '.sftpreceipt', '.metadata'] as const;
/** A delivered file's longest name is `<FileName>.<FileTransferUUID>.metadata` (SPEC §5): 255 bytes at most. */
export const MAX_FILE_NAME_BYTES = 255 - '.00000000-0000-0000-0000-000000000000.metadata'.length;
/** Characters that reorder how a name is shown (e.g. U+202E makes 'fdp.exe' look like 'exe.pdf'). */
const BIDI_FORMATTING = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/**
 * The FileName rules beyond its form (SPEC §5, TRIGGER_INVALID): the rule a name breaks, in the
 * sender's words, or undefined.
 */
export function fileNameProblem(name: string): string | undefined {
  const bidi = BIDI_FORMATTING.exec(name);
  if (bidi) {
    const code = `U+${bidi[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return `FileName must not contain bidirectional formatting characters (it has ${code} at position ${bidi.index + 1}), which make a name look like another; remove it`;
  }
  const suffix = RESERVED_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) {
    return `FileName must not end in ${suffix}: the platform names its triggers, receipts and metadata files so; rename the data file (got ${quote(name)})`;
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_FILE_NAME_BYTES) {
    return `FileName is ${bytes} bytes (UTF-8); it may be at most ${MAX_FILE_NAME_BYTES}, so that its delivered form <FileName>.<FileTransferUUID>.metadata fits in 255 bytes; shorten it`;
  }
  return undefined;
}

const UUID = { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description: 'a UUID (8-4-4-4-12 hex digits)' } as const;
const CVR_URN = { type: 'string', pattern: '^urn:oio:cvr-nr:[0-9]{8}$', description: "'urn:oio:cvr-nr:' followed by an 8-digit CVR number" } as const;
const SFTP_USER = { type: 'string', minLength: 1, maxLength: 255, description: 'an SFTP user name of 1–255 characters' } as const;

/** JSON Schema of a trigger's content (SPEC §4). Each `description` completes "<element> must be …". */
export const triggerSchema = {
  type: 'object',
  required: ['FileDescriptor', 'SFTPDynamicRoutingInfo'],
  properties: {
    FileDescriptor: {
      type: 'object',
      required: ['FileName', 'SizeInBytes', 'Sender', 'Recipients'],
      properties: {
        FileName: {
          type: 'string',
          minLength: 1,
          maxUtf8Bytes: 255,
          pattern: FILE_NAME_PATTERN,
          description: 'a file name of 1–255 bytes (UTF-8) without / \\ : * ? " < > |, control characters or a leading dot',
        },
        SizeInBytes: { type: 'string', pattern: '^\\+?0*[0-9]{1,15}$', description: 'a whole number of bytes (0 or more)' },
        Sender: SFTP_USER,
        SendersFileId: { type: 'string', maxLength: 255, description: 'at most 255 characters' },
        Recipients: { type: 'array', minItems: 1, items: SFTP_USER },
      },
    },
    SFTPDynamicRoutingInfo: {
      type: 'object',
      required: ['InfRef', 'SenderIt-system', 'SenderAuthority', 'TransactionId', 'SenderTimestamp', 'RecipientAuthority'],
      properties: {
        InfRef: { type: 'string', infRef: true, description: INFREF_FORM_HINT },
        'SenderIt-system': UUID,
        SenderAuthority: CVR_URN,
        TransactionId: UUID,
        SenderTimestamp: {
          type: 'string',
          pattern: '^-?[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$',
          realDate: true,
          description: 'an ISO 8601 date-time such as 2026-11-22T10:15:00+01:00',
        },
        'RecipientIt-system': UUID,
        RecipientAuthority: CVR_URN,
        RouteSelectionValueDate: {
          type: 'string',
          pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?$',
          realDate: true,
          description: 'a date YYYY-MM-DD',
        },
        Sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$', description: 'a SHA-256 digest of 64 hex digits' },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
ajv.addKeyword({ keyword: 'maxUtf8Bytes', type: 'string', schemaType: 'number', validate: (max: number, value: string) => Buffer.byteLength(value, 'utf8') <= max });
ajv.addKeyword({ keyword: 'infRef', type: 'string', schemaType: 'boolean', validate: (_: boolean, value: string) => parseInfRef(value) !== undefined });
ajv.addKeyword({ keyword: 'realDate', type: 'string', schemaType: 'boolean', validate: (_: boolean, value: string) => isCalendarDate(value.replace(/^-/, '').slice(0, 10)) });
const validate = ajv.compile<RawTrigger>(triggerSchema);

function isCalendarDate(ymd: string): boolean {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(ymd);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

const NO_ROUTING =
  "SFTPDynamicRoutingInfo is missing from FileContentDescriptor: KOMBIT's \"simple transfer\" is not supported, this service routes every file by " +
  'SFTPDynamicRoutingInfo (InfRef, SenderIt-system, SenderAuthority, TransactionId, SenderTimestamp, RecipientAuthority); add it';

/**
 * Checks the values read from a trigger; throws TRIGGER_INVALID naming every element at fault, e.g.
 * "SenderIt-system must be a UUID (8-4-4-4-12 hex digits), got 'abc'".
 */
export function assertValidTrigger(raw: RawTrigger, problems: string[] = []): asserts raw is Required<RawTrigger> {
  const messages = [...problems];
  if (!validate(raw)) {
    const seen = new Set(problems.map((p) => p.split(' ')[0]!));
    for (const e of validate.errors ?? []) {
      const text = describe(e);
      const key = text.split(' ')[0]!;
      if (!seen.has(key)) {
        seen.add(key);
        messages.push(text);
      }
    }
  }
  const fileName = raw.FileDescriptor?.FileName;
  if (messages.length === 0 && fileName !== undefined) {
    const problem = fileNameProblem(fileName);
    if (problem) messages.push(problem);
  }
  if (messages.length > 0) throw new TriggerError('TRIGGER_INVALID', messages.join('; '));
}

function describe(e: ErrorObject): string {
  const path = e.instancePath.split('/').filter((s) => s !== '' && !/^[0-9]+$/.test(s));
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    if (missing === 'SFTPDynamicRoutingInfo') return NO_ROUTING;
    const parent = path.at(-1) ?? 'Trigger';
    return missing === 'Recipients'
      ? 'Recipients is missing from FileDescriptor (at least one is required: ROUTING_V1_0_0 or a recipient user name)'
      : `${missing} is missing from ${parent} (required)`;
  }
  const element = path.at(-1) ?? 'Trigger';
  const description = (e.parentSchema as { description?: string } | undefined)?.description;
  if (e.data === '' && description) return `${element} is empty; it must be ${description}`;
  if (typeof e.data === 'string' && description) return `${element} must be ${description}, got ${quote(e.data)}`;
  return `${element} ${e.message ?? 'is invalid'}`;
}
