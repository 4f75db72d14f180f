import { cvrUrn } from '../authority/authority-ref.js';
import { ERROR_CODES, type ErrorCodeName } from './error-codes.js';
import { FU_NS, SP_NS } from './namespaces.js';
import type { RoutingInfo, Trigger } from './parse-trigger.js';
import { escapeXml } from './xml-text.js';

/*
 * The XML the platform writes (SPEC §4 "write strictly"): a prefixed root in KOMBIT's namespace,
 * unqualified children in XSD order, escaped values, UTF-8 with a declaration, two-space indent.
 */

export interface MetadataInput {
  transferId: string;
  trigger: Trigger;
  /** the name the file was delivered under (`<name>.<FileTransferUUID>` after a clash) */
  deliveredFileName: string;
  recipientUsername: string;
  /** uuid */
  recipientItSystem: string;
  /** the platform's SHA-256 of the delivered bytes */
  sha256: string;
}

export type ReceiptInput = { transferId: string; sendersFileId?: string } & ({ ok: true } | { ok: false; code: ErrorCodeName; text: string });

type Node = [name: string, content: string | Node[], attrs?: Record<string, string>];

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

function render(node: Node, depth = 0): string {
  const [name, content, attrs] = node;
  const pad = '  '.repeat(depth);
  const a = Object.entries(attrs ?? {})
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  if (typeof content === 'string') return `${pad}<${name}${a}>${escapeXml(content)}</${name}>\n`;
  return `${pad}<${name}${a}>\n${content.map((c) => render(c, depth + 1)).join('')}${pad}</${name}>\n`;
}

function document(root: Node): string {
  return DECLARATION + render(root);
}

function fileDescriptor(t: Trigger, fileName: string, recipients: string[]): Node {
  const children: Node[] = [
    ['FileName', fileName],
    ['SizeInBytes', String(t.sizeInBytes)],
    ['Sender', t.sender],
  ];
  if (t.sendersFileId !== undefined) children.push(['SendersFileId', t.sendersFileId]);
  for (const r of recipients) children.push(['Recipients', r]);
  return ['FileDescriptor', children];
}

function routingInfo(r: RoutingInfo, recipientItSystem: string | undefined, sha256: string | undefined, rootPrefix: string): Node {
  const children: Node[] = [
    ['InfRef', r.infRef],
    ['SenderIt-system', r.senderItSystem.toLowerCase()],
    ['SenderAuthority', cvrUrn(r.senderAuthority)],
    ['TransactionId', r.transactionId.toLowerCase()],
    ['SenderTimestamp', r.senderTimestamp],
  ];
  if (recipientItSystem !== undefined) children.push(['RecipientIt-system', recipientItSystem.toLowerCase()]);
  children.push(['RecipientAuthority', cvrUrn(r.recipientAuthority)]);
  const params: Node[] = [];
  if (r.routeSelectionValueDate !== undefined) params.push(['RouteParameter', [[`${rootPrefix}:RouteSelectionValueDate`, r.routeSelectionValueDate]]]);
  if (sha256 !== undefined) params.push(['RouteParameter', [['fu:Sha256', sha256.toLowerCase(), { 'xmlns:fu': FU_NS }]]]);
  if (params.length > 0) children.push(['RouteParameterList', params]);
  return ['FileContentDescriptor', [['SFTPDynamicRoutingInfo', children]]];
}

function metadataChildren(m: MetadataInput, rootPrefix: string): Node[] {
  return [
    ['FileTransferUUID', m.transferId],
    fileDescriptor(m.trigger, m.deliveredFileName, [m.recipientUsername]),
    routingInfo(m.trigger.routing, m.recipientItSystem, m.sha256, rootPrefix),
  ];
}

/** SPEC §6: the `.metadata` beside a delivered file, KOMBIT's FileMetadata. */
export function buildFileMetadata(m: MetadataInput): string {
  return document(['sp:FileMetadata', metadataChildren(m, 'sp'), { 'xmlns:sp': SP_NS }]);
}

/** SPEC §6 `--metadata legacy`: the same content under `ns2:Trigger`, FileTransferUUID first (not XSD-valid by design). */
export function buildLegacyMetadata(m: MetadataInput): string {
  return document(['ns2:Trigger', metadataChildren(m, 'ns2'), { 'xmlns:ns2': SP_NS }]);
}

/** SPEC §7: the sender's `.sftpreceipt`, KOMBIT's TechnicalReceipt. */
export function buildReceipt(r: ReceiptInput): string {
  const children: Node[] = [['FileTransferUUID', r.transferId]];
  if (r.sendersFileId !== undefined) children.push(['SendersFileId', r.sendersFileId]);
  if (r.ok) {
    children.push(['Receipt', [['Message', 'SUCCESS']]]);
  } else {
    children.push([
      'ErrorMessage',
      [
        ['ErrorCode', String(ERROR_CODES[r.code].number)],
        ['ErrorCodeDescription', r.code],
        ['ErrorDescription', r.text],
      ],
    ]);
  }
  return document(['sp:TechnicalReceipt', children, { 'xmlns:sp': SP_NS }]);
}

/** A trigger as a client should write it (valid against KOMBIT's XSD): for tests, documentation and benchmarks. */
export function buildTrigger(t: Trigger): string {
  return document(['sp:Trigger', [fileDescriptor(t, t.fileName, t.recipients), routingInfo(t.routing, t.routing.recipientItSystem, t.routing.sha256, 'sp')], { 'xmlns:sp': SP_NS }]);
}
