import { audit } from '../audit/audit.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';
import { ROUTE_COLUMNS, type RouteRow } from './find-routes.js';

export function parseId(text: string, what: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text.trim()) || Number(text) > 2_147_483_647) throw new UsageError(`${what} '${text}' is not an id: give the number shown by the list command.`, { code: 'id-invalid', values: { id: text } });
  return Number(text);
}

/** `route remove <id>`: soft — the row stays, with removed_at/removed_by, for the audit trail. */
export async function removeRoute(pool: Pool, idText: string, by: string): Promise<RouteRow> {
  const id = parseId(idText, 'Route');
  return inTransaction(pool, async (db) => {
    const { rows } = await db.query<RouteRow & { removedAt: Date | null }>(`SELECT ${ROUTE_COLUMNS}, removed_at AS "removedAt" FROM routes WHERE id = $1 FOR UPDATE`, [id]);
    const route = rows[0];
    if (!route) throw new RefusedError(`Unknown route ${id} (see 'filudveksling route list').`, { code: 'route-unknown', values: { id } });
    if (route.removedAt) throw new RefusedError(`Route ${id} was already removed (${route.removedAt.toISOString()}); nothing to do.`, { code: 'route-removed', values: { id } });
    await db.query('UPDATE routes SET removed_at = now(), removed_by = $2 WHERE id = $1', [id, by]);
    const { removedAt: _, ...before } = route;
    await audit(db, { actor: by, action: 'route.remove', entity: 'route', entityId: id, before });
    return before;
  });
}
