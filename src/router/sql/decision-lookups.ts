import { agreementHoldsSql } from '../../agreements/has-approved-agreement.js';
import type { AuthorityRow } from '../../authority/find-authority.js';
import type { Queryable } from '../../db/pool.js';
import { infrefForRoutingSql, type InfRefForRouting } from '../../infref/infref-for-routing.js';
import { routeValidOnSql } from '../../routes/find-routes.js';
import type { SystemRow } from '../../systems/find-system.js';
import { IN_FLIGHT_SQL } from '../transfer-states.js';

/** An earlier transfer with the same Sender + SendersFileId (SPEC §5's resend rule). */
export interface EarlierTransfer {
  id: string;
  status: string;
  receiptXml: string | null;
}

/** What deciding a transfer asks the database, all in one question (lookUpDecision). */
export interface DecisionQuestion {
  transferId: string;
  senderSystemId: number;
  /** The trigger's SendersFileId when its Sender is the sender: look for an original it resends. */
  sendersFileId?: string;
  /** The InfRef the trigger names (undefined: it names none that parses). */
  infref?: { number: number; version: number };
  /** Bare CVRs (8 digits; undefined for anything else). */
  senderCvr?: string;
  recipientCvr?: string;
  /** RecipientIt-system (a UUID, lower case), or the user names in Recipients, in order. */
  recipientUuid?: string;
  recipientNames: string[];
  /** 'YYYY-MM-DD': the day routes must be valid on, and the day agreements must hold on. */
  routesOn: string;
  agreementsOn: string;
  /** Look up agreements (production only). */
  agreements: boolean;
}

/** The answers; the checks themselves are made in decide-transfer.ts. */
export interface DecisionLookups {
  /**
   * SPEC §5's resend rule: the delivered transfer with this Sender + SendersFileId, if any; else an
   * older one with the same pair still on its way (the caller waits for it to finish, so two
   * triggers of one file never both deliver). Undefined when not asked, or none.
   */
  resendOriginal?: EarlierTransfer;
  infref?: InfRefForRouting;
  senderAuthority?: AuthorityRow;
  recipientAuthority?: AuthorityRow;
  /** The system with the RecipientIt-system UUID. */
  recipientByUuid?: SystemRow;
  /** Each name of Recipients with its system (undefined: no such system), in the order asked. */
  recipientsByName: { name: string; system?: SystemRow }[];
  /** Recipients of the routes valid for sender, InfRef number and RecipientAuthority on `routesOn`, by user name. */
  routedRecipients: SystemRow[];
  /** With `agreements`: whether the sender may send for RecipientAuthority, and who may fetch for it (system ids). */
  senderMaySend: boolean;
  mayFetch: number[];
}

const SYSTEM_JSON = (s: string) =>
  `jsonb_build_object('id', ${s}.id, 'username', ${s}.username, 'uuid', ${s}.uuid::text, 'vendorId', ${s}.vendor_id, 'enabled', ${s}.enabled,
                      'inboxLayout', ${s}.inbox_layout, 'metadataFormat', ${s}.metadata_format)`;
const AUTHORITY_JSON = (a: string) =>
  `jsonb_build_object('id', ${a}.id, 'cvr', ${a}.cvr, 'name', ${a}.name, 'kommunekode', ${a}.kommunekode, 'folder', ${a}.folder, 'inhabitants', ${a}.inhabitants)`;

/**
 * Everything SPEC §5's checks read, in one statement (one round trip instead of one per check): the
 * resend original, the InfRef version with its declaration, both authorities, the named recipients,
 * the recipients of the valid routes and, in production, the agreements — the reads the checks made
 * one by one before (find-authority, find-system, find-routes, has-approved-agreement; the InfRef
 * version's, the routes' and the agreements' reads are their modules', as SQL).
 */
export async function lookUpDecision(db: Queryable, q: DecisionQuestion): Promise<DecisionLookups> {
  const { rows } = await db.query<{
    resend: EarlierTransfer | null;
    infref: InfRefForRouting | null;
    senderAuthority: AuthorityRow | null;
    recipientAuthority: AuthorityRow | null;
    byUuid: SystemRow | null;
    byName: { name: string; system: SystemRow | null }[];
    routed: SystemRow[];
    maySend: boolean;
    mayFetch: number[];
  }>({
    // Named: prepared once per connection, so PostgreSQL plans it once, not per transfer.
    name: 'router-decision-lookups',
    text: `WITH inf AS (
         ${infrefForRoutingSql('$4', '$5')}
       ), ra AS (
         SELECT * FROM authorities WHERE cvr = $7
       ), named AS (
         SELECT s.id FROM systems s WHERE s.uuid = $8::uuid
         UNION ALL SELECT s.id FROM systems s WHERE s.username = ANY($9::text[])
       ), routed AS (
         SELECT DISTINCT r.recipient_system_id AS id
           FROM routes r JOIN inf ON r.infref_number = inf.number JOIN ra ON r.authority_id = ra.id
          WHERE r.sender_system_id = $2 AND ${routeValidOnSql('r', '$10')}
       ), agreed AS (
         SELECT a.system_id, a.service
           FROM agreements a JOIN ra ON a.authority_id = ra.id
          WHERE $12::boolean
            AND ((a.service = 'send' AND a.system_id = $2)
                 OR (a.service = 'fetch' AND (a.system_id IN (SELECT id FROM routed) OR a.system_id IN (SELECT id FROM named))))
            AND ${agreementHoldsSql('a', '$11')}
       )
       SELECT
         (SELECT jsonb_build_object('id', o.id::text, 'status', o.status, 'receiptXml', o.receipt_xml)
            FROM transfers o, transfers me
           WHERE $3::text IS NOT NULL AND me.id = $1 AND o.sender_system_id = $2 AND o.senders_file_id = $3 AND o.id <> me.id
             AND (o.status = 'delivered' OR (o.status IN ${IN_FLIGHT_SQL} AND (o.received_at, o.id) < (me.received_at, me.id)))
           ORDER BY (o.status = 'delivered') DESC, o.received_at
           LIMIT 1) AS resend,
         (SELECT to_jsonb(inf) FROM inf) AS infref,
         (SELECT ${AUTHORITY_JSON('a')} FROM authorities a WHERE a.cvr = $6) AS "senderAuthority",
         (SELECT ${AUTHORITY_JSON('ra')} FROM ra) AS "recipientAuthority",
         (SELECT ${SYSTEM_JSON('s')} FROM systems s WHERE s.uuid = $8::uuid) AS "byUuid",
         (SELECT coalesce(jsonb_agg(jsonb_build_object('name', n.name, 'system', CASE WHEN s.id IS NULL THEN NULL ELSE ${SYSTEM_JSON('s')} END) ORDER BY n.ord), '[]')
            FROM unnest($9::text[]) WITH ORDINALITY AS n(name, ord) LEFT JOIN systems s ON s.username = n.name) AS "byName",
         (SELECT coalesce(jsonb_agg(${SYSTEM_JSON('s')} ORDER BY s.username), '[]') FROM systems s WHERE s.id IN (SELECT id FROM routed)) AS routed,
         EXISTS (SELECT 1 FROM agreed WHERE service = 'send') AS "maySend",
         (SELECT coalesce(array_agg(DISTINCT system_id), '{}') FROM agreed WHERE service = 'fetch') AS "mayFetch"`,
    values: [
      q.transferId,
      q.senderSystemId,
      q.sendersFileId ?? null,
      q.infref?.number ?? null,
      q.infref?.version ?? null,
      q.senderCvr ?? null,
      q.recipientCvr ?? null,
      q.recipientUuid ?? null,
      q.recipientNames,
      q.routesOn,
      q.agreementsOn,
      q.agreements,
    ],
  });
  const r = rows[0]!;
  return {
    resendOriginal: r.resend ?? undefined,
    infref: r.infref ?? undefined,
    senderAuthority: r.senderAuthority ?? undefined,
    recipientAuthority: r.recipientAuthority ?? undefined,
    recipientByUuid: r.byUuid ?? undefined,
    recipientsByName: r.byName.map((n) => ({ name: n.name, system: n.system ?? undefined })),
    routedRecipients: r.routed,
    senderMaySend: r.maySend,
    mayFetch: r.mayFetch,
  };
}
