import type { AuthorityRow } from '../authority/find-authority.js';
import type { InfRefForRouting } from '../infref/infref-for-routing.js';
import { formatInfRef, parseInfRef } from '../infref/infref-name.js';
import type { SystemRow } from '../systems/find-system.js';
import { TriggerError, type Trigger } from '../triggers/parse-trigger.js';
import { RoutingError } from './routing-error.js';
import { receiptName, receiptNameFits } from './write-receipt.js';
import type { DecisionLookups, DecisionQuestion } from './sql/decision-lookups.js';

/** `Recipients` value meaning "route by SFTPDynamicRoutingInfo" (SPEC §4). */
export const DYNAMIC_ROUTING = 'ROUTING_V1_0_0';

/** What the router knows about a trigger when it decides. */
export interface TransferFacts {
  /** The system whose OUT the trigger was in (the logged-in system). */
  sender: SystemRow;
  transferId: string;
  /** The trigger file's name in OUT (its receipt is named after it). */
  triggerName: string;
  /** The parsed trigger, or why it could not be parsed. */
  trigger: Trigger | TriggerError;
  /** The data file, taken out of OUT; undefined when there was none. `sha256` reads it at most once. */
  file?: { size: number; sha256: () => Promise<string> };
  env: 'test' | 'production';
  /** 'YYYY-MM-DD' in Danish time: the day agreements must hold on, and the route date when the trigger names none. */
  today: string;
  /** What the database said to `decisionQuestion(…)` (lookUpDecision: one round trip). */
  found: DecisionLookups;
}

export interface Decision {
  trigger: Trigger;
  sha256: string;
  infref: InfRefForRouting;
  authority: AuthorityRow;
  recipients: SystemRow[];
  onDate: string;
}

/**
 * What the checks below need from the database, asked in one question (sql/decision-lookups.ts)
 * before any of them runs. `sendersFileId`: ask for the original of a resend too. A trigger that does
 * not parse asks only that.
 */
export function decisionQuestion(
  q: { transferId: string; sender: SystemRow; trigger: Trigger | TriggerError; sendersFileId?: string; env: 'test' | 'production'; today: string },
): DecisionQuestion {
  const asked: DecisionQuestion = {
    transferId: q.transferId,
    senderSystemId: q.sender.id,
    sendersFileId: q.sendersFileId,
    recipientNames: [],
    routesOn: q.today,
    agreementsOn: q.today,
    agreements: false,
  };
  if (q.trigger instanceof TriggerError) return asked;
  const routing = q.trigger.routing;
  const uuid = routing.recipientItSystem?.trim();
  return {
    ...asked,
    infref: parseInfRef(routing.infRef),
    senderCvr: bareCvr(routing.senderAuthority),
    recipientCvr: bareCvr(routing.recipientAuthority),
    recipientUuid: uuid !== undefined && UUID.test(uuid) ? uuid.toLowerCase() : undefined,
    recipientNames: routing.recipientItSystem === undefined ? recipientNames(q.trigger) : [],
    routesOn: routing.routeSelectionValueDate ?? q.today,
    agreements: q.env === 'production',
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An authority's CVR as the database holds it (8 digits), else undefined: no authority has it. */
function bareCvr(cvr: string): string | undefined {
  return /^[0-9]{8}$/.test(cvr.trim()) ? cvr.trim() : undefined;
}

/** The user names in Recipients, once each, without the dynamic-routing value. */
function recipientNames(trigger: Trigger): string[] {
  return [...new Set(trigger.recipients.map((r) => r.trim()).filter((r) => r !== DYNAMIC_ROUTING))];
}

/**
 * SPEC §5, in order (1006 CHECKSUM_MISMATCH last): the one place a transfer is decided. Returns who gets the file, or throws a
 * RoutingError with the first check that failed. The database's answers come in `facts.found` (one
 * round trip for all checks). (The resend rule runs before this, in decide-step.ts, since it
 * answers instead of deciding.)
 */
export async function decideTransfer(facts: TransferFacts): Promise<Decision> {
  const { sender, trigger, found } = facts;
  if (trigger instanceof TriggerError) throw new RoutingError(trigger.code, trigger.message);
  if (!receiptNameFits(facts.triggerName)) {
    throw new RoutingError(
      'TRIGGER_INVALID',
      `The trigger's name is ${Buffer.byteLength(facts.triggerName)} bytes; its receipt <name>.sftpreceipt must fit in 255 bytes, so a trigger's name may be at most 251 bytes (this receipt is named ${receiptName(facts.triggerName, facts.transferId)} instead); shorten it`,
    );
  }
  const routing = trigger.routing;

  if (trigger.sender !== sender.username) {
    throw new RoutingError(
      'SENDER_MISMATCH',
      `Sender is '${trigger.sender}' but the trigger was uploaded by '${sender.username}'; a system can only send as itself (set Sender to '${sender.username}')`,
    );
  }
  if (routing.senderItSystem.toLowerCase() !== sender.uuid.toLowerCase()) {
    throw new RoutingError(
      'SENDER_MISMATCH',
      `SenderIt-system is ${routing.senderItSystem} but the trigger was uploaded by '${sender.username}', whose UUID is ${sender.uuid}`,
    );
  }

  const file = facts.file;
  if (!file) {
    throw new RoutingError('FILE_MISSING', `No data file '${trigger.fileName}' in /OUT; upload the data file before its trigger, under the name the trigger's FileName gives`);
  }
  if (file.size !== trigger.sizeInBytes) {
    throw new RoutingError('SIZE_MISMATCH', `The data file '${trigger.fileName}' is ${file.size} bytes but the trigger's SizeInBytes says ${trigger.sizeInBytes}`);
  }
  const infref = checkInfRef(found, routing.infRef, sender);

  const senderAuthority = found.senderAuthority;
  if (!senderAuthority) throw unknownAuthority('SenderAuthority', routing.senderAuthority);
  const authority = found.recipientAuthority;
  if (!authority) throw unknownAuthority('RecipientAuthority', routing.recipientAuthority);

  const onDate = routing.routeSelectionValueDate ?? facts.today;
  const where = `for ${formatInfRef(infref)} and authority ${authorityLabel(authority)} valid on ${onDate}`;
  const named = namedRecipients(found, trigger);
  let recipients: SystemRow[];
  if (named.length > 0) {
    for (const r of named) {
      if (!r.enabled) {
        throw new RoutingError('RECIPIENT_DISABLED', `The recipient '${r.username}' (${r.uuid}) is disabled; it cannot receive files until an operator enables it again`);
      }
    }
    const routed = new Set(found.routedRecipients.map((s) => s.id));
    for (const r of named) {
      if (!routed.has(r.id)) throw noRoute(sender, r.username, where, infref, authority);
    }
    recipients = named;
  } else {
    recipients = found.routedRecipients.filter((s) => s.enabled);
    if (recipients.length === 0) {
      throw noRoute(sender, found.routedRecipients.length > 0 ? 'any enabled recipient' : 'any recipient', where, infref, authority);
    }
  }

  if (facts.env === 'production') {
    if (!found.senderMaySend) throw noAgreement(sender.username, 'send', authority);
    const mayFetch = new Set(found.mayFetch);
    for (const r of recipients) {
      if (!mayFetch.has(r.id)) throw noAgreement(r.username, 'fetch', authority);
    }
  }

  // Last (SPEC §5): reading a file of up to MAX_FILE_BYTES is the dearest check, so nothing is hashed
  // for a transfer refused anyway (a file that fails both gets the 11xx/12xx code).
  const sha256 = await file.sha256();
  if (routing.sha256 !== undefined && routing.sha256 !== sha256) {
    throw new RoutingError('CHECKSUM_MISMATCH', `The data file '${trigger.fileName}' has SHA-256 ${sha256} but the trigger's fu:Sha256 says ${routing.sha256}`);
  }
  return { trigger, sha256, infref, authority, recipients, onDate };
}

function checkInfRef(found: DecisionLookups, text: string, sender: SystemRow): InfRefForRouting {
  const name = parseInfRef(text);
  const infref = name ? found.infref : undefined;
  if (!name || !infref) {
    throw new RoutingError('INFREF_UNKNOWN', `There is no InfRef ${text}; ask the operator to issue one ('filudveksling infref issue --owner ${sender.username}')`);
  }
  const label = formatInfRef(name);
  if (infref.ownerSystemId !== sender.id) {
    throw new RoutingError('INFREF_NOT_OWNED', `${label} belongs to another sending system, not '${sender.username}'; send with an InfRef issued to '${sender.username}'`);
  }
  if (infref.status === 'revoked') throw new RoutingError('INFREF_REVOKED', `${label} is revoked; it can no longer carry data`);
  if (infref.status === 'superseded') {
    throw new RoutingError('INFREF_REVOKED', `${label} is superseded by a newer version whose declaration is approved; send with the newer version`);
  }
  if (infref.declarationStatus !== 'approved') {
    const state = infref.declarationStatus === null ? 'no GDPR declaration has been received' : `its GDPR declaration is ${infref.declarationStatus}`;
    throw new RoutingError('GDPR_NOT_APPROVED', `${label} may not carry data: ${state} ('filudveksling infref declaration ${label} --approve' once it is)`);
  }
  return infref;
}

/** The systems the trigger names (RecipientIt-system, or user names in Recipients); empty for dynamic routing. */
function namedRecipients(found: DecisionLookups, trigger: Trigger): SystemRow[] {
  const names = recipientNames(trigger);
  const uuid = trigger.routing.recipientItSystem;
  if (uuid !== undefined) {
    const system = found.recipientByUuid;
    if (!system) throw new RoutingError('RECIPIENT_UNKNOWN', `No system has the UUID ${uuid} given as RecipientIt-system`);
    const other = names.find((n) => n !== system.username);
    if (other !== undefined) {
      throw new RoutingError(
        'TRIGGER_INVALID',
        `Recipients names '${other}' but RecipientIt-system is ${uuid} ('${system.username}'); with RecipientIt-system, Recipients must be ${DYNAMIC_ROUTING} or '${system.username}'`,
      );
    }
    return [system];
  }
  const systems: SystemRow[] = [];
  for (const { name, system } of found.recipientsByName) {
    if (!system) throw new RoutingError('RECIPIENT_UNKNOWN', `No system has the user name '${name}' given in Recipients`);
    systems.push(system);
  }
  return systems;
}

export function authorityLabel(a: AuthorityRow): string {
  return a.kommunekode ? `${a.kommunekode} ${a.name}` : `${a.cvr ?? a.folder} ${a.name}`;
}

function unknownAuthority(element: string, cvr: string): RoutingError {
  return new RoutingError('AUTHORITY_UNKNOWN', `${element} urn:oio:cvr-nr:${cvr} is not a known authority; an operator adds it with 'filudveksling authority add ${cvr} --name …'`);
}

function noRoute(sender: SystemRow, recipient: string, where: string, infref: InfRefForRouting, authority: AuthorityRow): RoutingError {
  return new RoutingError(
    'ROUTE_MISSING',
    `No route ${sender.username} → ${recipient} ${where} (add one with 'filudveksling route add --sender ${sender.username} --infref ${formatInfRef(infref)} --recipient <system> --authority ${authority.kommunekode ?? authority.cvr}')`,
  );
}

function noAgreement(system: string, service: 'send' | 'fetch', authority: AuthorityRow): RoutingError {
  return new RoutingError(
    'AGREEMENT_MISSING',
    `'${system}' has no approved service agreement to ${service} for authority ${authorityLabel(authority)} (request one with 'filudveksling agreement request --system ${system} --service ${service} --authority ${authority.kommunekode ?? authority.cvr}')`,
  );
}
