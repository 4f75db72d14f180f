import { cvrFromUrn } from '../authority/authority-ref.js';
import { FU_NS, MAX_TRIGGER_BYTES, SP_NS } from './namespaces.js';
import { TriggerError, quote, type TriggerErrorCode } from './trigger-error.js';
import { assertValidTrigger, isValidFileName, type RawTrigger } from './trigger-schema.js';
import { decodeEntities, decodeXmlBytes } from './xml-text.js';
import { parseXmlTree, type XmlElement } from './xml-tree.js';

export { TriggerError, type TriggerErrorCode };

/** SFTPDynamicRoutingInfo, checked and normalised (UUIDs and Sha256 lower case, authorities as CVR). */
export interface RoutingInfo {
  infRef: string;
  senderItSystem: string;
  /** 8-digit CVR */
  senderAuthority: string;
  transactionId: string;
  /** as sent, trimmed */
  senderTimestamp: string;
  recipientItSystem?: string;
  /** 8-digit CVR */
  recipientAuthority: string;
  /** YYYY-MM-DD */
  routeSelectionValueDate?: string;
  sha256?: string;
}

/** A KOMBIT trigger (SPEC §4), checked. */
export interface Trigger {
  fileName: string;
  sizeInBytes: number;
  sender: string;
  sendersFileId?: string;
  recipients: string[];
  routing: RoutingInfo;
}

/**
 * Reads a trigger file (SPEC §4, §10). Throws TriggerError: TRIGGER_MALFORMED when it is over 64 KiB,
 * not well-formed, declares a DTD or entities, or its root is not sp:Trigger; TRIGGER_INVALID when an
 * element is missing or of the wrong form (the message names each one, with the value).
 */
export function parseTrigger(xml: Buffer | string): Trigger {
  const bytes = typeof xml === 'string' ? Buffer.byteLength(xml, 'utf8') : xml.length;
  if (bytes > MAX_TRIGGER_BYTES) {
    // Callers may hand over only the first MAX_TRIGGER_BYTES + 1 bytes, so the size is not quoted.
    throw new TriggerError('TRIGGER_MALFORMED', `The trigger is larger than ${MAX_TRIGGER_BYTES} bytes (64 KiB), the most a trigger may be; shorten it`);
  }
  const root = parseXmlTree(decodeXmlBytes(xml));
  if (root.local !== 'Trigger' || root.ns !== SP_NS) {
    const where = root.ns ? `in namespace ${quote(root.ns, 200)}` : 'in no namespace';
    throw new TriggerError('TRIGGER_MALFORMED', `The trigger's root element is <${root.qname}> ${where}; it must be Trigger in namespace ${SP_NS}`);
  }
  const problems: string[] = [];
  const raw = extract(root, problems);
  assertValidTrigger(raw, problems);
  const fd = raw.FileDescriptor as Required<NonNullable<RawTrigger['FileDescriptor']>>;
  const ri = raw.SFTPDynamicRoutingInfo as Required<NonNullable<RawTrigger['SFTPDynamicRoutingInfo']>>;
  const routing: RoutingInfo = {
    infRef: ri.InfRef,
    senderItSystem: ri['SenderIt-system'].toLowerCase(),
    senderAuthority: cvrFromUrn(ri.SenderAuthority)!,
    transactionId: ri.TransactionId.toLowerCase(),
    senderTimestamp: ri.SenderTimestamp,
    recipientAuthority: cvrFromUrn(ri.RecipientAuthority)!,
  };
  if (ri['RecipientIt-system'] !== undefined) routing.recipientItSystem = ri['RecipientIt-system'].toLowerCase();
  if (ri.RouteSelectionValueDate !== undefined) routing.routeSelectionValueDate = ri.RouteSelectionValueDate.slice(0, 10);
  if (ri.Sha256 !== undefined) routing.sha256 = ri.Sha256.toLowerCase();
  const trigger: Trigger = { fileName: fd.FileName, sizeInBytes: Number(fd.SizeInBytes.replace(/^\+/, '')), sender: fd.Sender, recipients: fd.Recipients, routing };
  if (fd.SendersFileId !== undefined) trigger.sendersFileId = fd.SendersFileId;
  return trigger;
}

/**
 * Best effort for the receipt of a trigger parseTrigger() refused: whatever FileName, SendersFileId
 * and Sender can be read by a plain text search (no XML parsing, no entity expansion; the first
 * 1 MiB only). A value is returned only if it is of an acceptable form. Never throws.
 */
export function salvageTriggerFields(xml: Buffer | string): { fileName?: string; sendersFileId?: string; sender?: string } {
  const out: { fileName?: string; sendersFileId?: string; sender?: string } = {};
  try {
    let text: string;
    try {
      text = decodeXmlBytes(typeof xml === 'string' ? xml.slice(0, 1 << 20) : xml.subarray(0, 1 << 20));
    } catch {
      text = typeof xml === 'string' ? xml.slice(0, 1 << 20) : xml.subarray(0, 1 << 20).toString('utf8');
    }
    const fileName = salvageValue(text, 'FileName');
    if (fileName !== undefined && isValidFileName(fileName)) out.fileName = fileName;
    const sendersFileId = salvageValue(text, 'SendersFileId');
    if (sendersFileId !== undefined && sendersFileId.length <= 255 && !/[\u0000-\u001f]/.test(sendersFileId)) out.sendersFileId = sendersFileId;
    const sender = salvageValue(text, 'Sender');
    if (sender !== undefined && sender.length <= 255 && !/[\u0000-\u001f]/.test(sender)) out.sender = sender;
  } catch {
    // best effort: whatever was found so far
  }
  return out;
}

function salvageValue(text: string, local: string): string | undefined {
  // Linear on purpose (no backtracking over CDATA): the first opening tag, then the next closing tag.
  const open = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${local}(?:\\s[^<>]*)?>`, 'g');
  const close = new RegExp(`</(?:[A-Za-z_][\\w.-]*:)?${local}\\s*>`, 'g');
  const o = open.exec(text);
  if (!o) return undefined;
  close.lastIndex = open.lastIndex;
  const c = close.exec(text);
  if (!c) return undefined;
  const inner = text.slice(open.lastIndex, c.index);
  let v = '';
  let i = 0;
  while (i < inner.length) {
    const cdata = inner.indexOf('<![CDATA[', i);
    const plain = inner.slice(i, cdata < 0 ? inner.length : cdata);
    if (plain.includes('<')) return undefined; // an element inside: not a simple value
    try {
      v += decodeEntities(plain);
    } catch {
      return undefined; // an entity we will not expand: the value is unknown
    }
    if (cdata < 0) break;
    const endCdata = inner.indexOf(']]>', cdata + 9);
    if (endCdata < 0) return undefined;
    v += inner.slice(cdata + 9, endCdata);
    i = endCdata + 3;
  }
  v = v.trim();
  return v === '' ? undefined : v;
}

/** Collects the values by local name, any namespace (SPEC §4 "read leniently"); unknown elements are ignored. */
function extract(root: XmlElement, problems: string[]): RawTrigger {
  const raw: RawTrigger = {};
  const fd = single(root, 'FileDescriptor', problems);
  if (fd) {
    raw.FileDescriptor = {
      FileName: value(fd, 'FileName', problems),
      SizeInBytes: value(fd, 'SizeInBytes', problems),
      Sender: value(fd, 'Sender', problems),
      SendersFileId: value(fd, 'SendersFileId', problems, { emptyIsAbsent: true }),
      Recipients: values(fd, 'Recipients', problems),
    };
  }
  const fcd = single(root, 'FileContentDescriptor', problems);
  const ri = fcd && single(fcd, 'SFTPDynamicRoutingInfo', problems);
  if (ri) {
    raw.SFTPDynamicRoutingInfo = {
      InfRef: value(ri, 'InfRef', problems),
      'SenderIt-system': value(ri, 'SenderIt-system', problems),
      SenderAuthority: value(ri, 'SenderAuthority', problems),
      TransactionId: value(ri, 'TransactionId', problems),
      SenderTimestamp: value(ri, 'SenderTimestamp', problems),
      'RecipientIt-system': value(ri, 'RecipientIt-system', problems, { emptyIsAbsent: true }),
      RecipientAuthority: value(ri, 'RecipientAuthority', problems),
      ...routeParameters(ri, problems),
    };
  }
  return dropUndefined(raw);
}

/**
 * RouteParameterList/RouteParameter/* by local name and namespace: RouteSelectionValueDate in the sp
 * namespace (or, leniently, in none), Sha256 in urn:filudveksling:xml:1. Others are ignored.
 */
function routeParameters(ri: XmlElement, problems: string[]): { RouteSelectionValueDate?: string; Sha256?: string } {
  const params = ri.children.filter((c) => c.local === 'RouteParameterList').flatMap((l) => l.children.filter((c) => c.local === 'RouteParameter'));
  const inside = params.flatMap((p) => p.children);
  const dates = inside.filter((e) => e.local === 'RouteSelectionValueDate' && (e.ns === SP_NS || e.ns === undefined));
  const sums = inside.filter((e) => e.local === 'Sha256' && e.ns === FU_NS);
  return {
    RouteSelectionValueDate: onlyValue('RouteSelectionValueDate', dates, problems),
    Sha256: onlyValue('Sha256', sums, problems),
  };
}

function single(parent: XmlElement, local: string, problems: string[]): XmlElement | undefined {
  const found = parent.children.filter((c) => c.local === local);
  if (found.length > 1) problems.push(`${local} appears ${found.length} times in ${parent.local}; it may appear once`);
  return found[0];
}

function value(parent: XmlElement, local: string, problems: string[], opts: { emptyIsAbsent?: boolean } = {}): string | undefined {
  const v = onlyValue(local, parent.children.filter((c) => c.local === local), problems, parent.local);
  return opts.emptyIsAbsent && v === '' ? undefined : v;
}

function values(parent: XmlElement, local: string, problems: string[]): string[] | undefined {
  const found = parent.children.filter((c) => c.local === local);
  if (found.length === 0) return undefined;
  return found.map((e) => textOf(e, problems));
}

function onlyValue(local: string, found: XmlElement[], problems: string[], parentName = 'RouteParameterList'): string | undefined {
  if (found.length > 1) problems.push(`${local} appears ${found.length} times in ${parentName}; it may appear once`);
  if (found.length === 0) return undefined;
  const v = textOf(found[0]!, problems);
  return v === '' && (local === 'RouteSelectionValueDate' || local === 'Sha256') ? undefined : v;
}

function textOf(e: XmlElement, problems: string[]): string {
  if (e.children.length > 0) problems.push(`${e.local} must be a text value, but it contains the element <${e.children[0]!.qname}>`);
  return e.text.trim();
}

function dropUndefined<T>(o: T): T {
  if (Array.isArray(o) || o === null || typeof o !== 'object') return o;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = dropUndefined(v);
  return out as T;
}

/** parseTrigger, with a refusal returned instead of thrown (the router turns it into a receipt). */
export function parseTriggerOrError(xml: Buffer | string): Trigger | TriggerError {
  try {
    return parseTrigger(xml);
  } catch (err) {
    if (err instanceof TriggerError) return err;
    throw err;
  }
}
