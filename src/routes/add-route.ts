import { audit } from '../audit/audit.js';
import { authorityLabel, requireAuthority } from '../authority/require-authority.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { RefusedError } from '../errors.js';
import { requireInfRef } from '../infref/require-infref.js';
import { requireSystem } from '../systems/require-system.js';
import { ROUTE_COLUMNS, type RouteRow } from './find-routes.js';
import { parseDay } from './validity-day.js';

export interface AddRouteInput {
  sender: string;
  infref: string;
  recipient: string;
  authority: string;
  validFrom?: string;
  validTo?: string;
}

/**
 * `route add`: (sender, InfRef number, recipient, authority) with an optional validity period,
 * both days inclusive. The InfRef must be the sender's; a route for the same four that overlaps
 * in time is refused, so one transfer never finds two routes to the same recipient.
 */
export async function addRoute(pool: Pool, input: AddRouteInput, by: string): Promise<RouteRow> {
  const validFrom = input.validFrom === undefined ? null : parseDay(input.validFrom, '--valid-from');
  const validTo = input.validTo === undefined ? null : parseDay(input.validTo, '--valid-to');
  if (validFrom && validTo && validTo < validFrom) {
    throw new RefusedError(`The validity period ends (--valid-to ${validTo}) before it starts (--valid-from ${validFrom}); give an end on or after the start.`, {
      code: 'route-period-reversed',
      values: { from: validFrom, to: validTo },
    });
  }
  return inTransaction(pool, async (db) => {
    const sender = await requireSystem(db, input.sender, 'sender system');
    const infref = await requireInfRef(db, input.infref);
    const recipient = await requireSystem(db, input.recipient, 'recipient system');
    const authority = await requireAuthority(db, input.authority, '--authority');
    if (infref.ownerSystemId !== sender.id) {
      throw new RefusedError(`${infref.name} belongs to '${infref.owner}', not to the sender '${sender.username}': a route can only carry the sender's own InfRef (issue one with 'filudveksling infref issue --owner ${sender.username}').`, {
        code: 'route-infref-not-senders',
        values: { infref: infref.name, owner: infref.owner, sender: sender.username },
      });
    }
    if (infref.status === 'revoked') {
      throw new RefusedError(`${infref.name} is revoked${infref.statusReason ? ` (${infref.statusReason})` : ''}; name an InfRef that can carry data.`, { code: 'route-infref-revoked', values: { infref: infref.name } });
    }
    // Serialise route changes for this (sender, number) so two overlapping adds cannot both pass.
    await db.query('SELECT pg_advisory_xact_lock($1, $2)', [sender.id, infref.number]);
    const { rows: overlapping } = await db.query<RouteRow>(
      `SELECT ${ROUTE_COLUMNS} FROM routes
        WHERE removed_at IS NULL AND sender_system_id = $1 AND infref_number = $2 AND recipient_system_id = $3 AND authority_id = $4
          AND daterange(valid_from, valid_to, '[]') && daterange($5::date, $6::date, '[]')`,
      [sender.id, infref.number, recipient.id, authority.id, validFrom, validTo],
    );
    const clash = overlapping[0];
    if (clash) {
      throw new RefusedError(`Route ${clash.id} already carries InfRef ${infref.number} from '${sender.username}' to '${recipient.username}' for ${authorityLabel(authority)} (${period(clash.validFrom, clash.validTo)}), overlapping ${period(validFrom, validTo)}; remove it first with 'filudveksling route remove ${clash.id}' or choose a period that does not overlap.`, {
        code: 'route-overlap',
        values: { id: clash.id, number: infref.number, sender: sender.username, recipient: recipient.username, authority: authorityLabel(authority) },
      });
    }
    const { rows } = await db.query<RouteRow>(
      `INSERT INTO routes (sender_system_id, infref_number, recipient_system_id, authority_id, valid_from, valid_to, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${ROUTE_COLUMNS}`,
      [sender.id, infref.number, recipient.id, authority.id, validFrom, validTo, by],
    );
    const route = rows[0]!;
    await audit(db, {
      actor: by,
      action: 'route.add',
      entity: 'route',
      entityId: route.id,
      after: { sender: sender.username, infrefNumber: infref.number, recipient: recipient.username, authority: authorityLabel(authority), validFrom, validTo },
    });
    return route;
  });
}

export function period(from: string | null, to: string | null): string {
  if (!from && !to) return 'always valid';
  return `valid ${from ?? 'from the start'} – ${to ?? 'open-ended'}`;
}
