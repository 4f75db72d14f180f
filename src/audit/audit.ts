import type { Queryable } from '../db/pool.js';

export interface AuditEntry {
  actor: string;
  action: string;
  entity: 'vendor' | 'system' | 'system_key' | 'authority' | 'infref' | 'declaration' | 'route' | 'agreement' | 'transfer' | 'user' | 'price';
  entityId: string | number;
  before?: unknown;
  after?: unknown;
}

/** Appends one audit row (SPEC §9). Call it inside the transaction that makes the change. */
export async function audit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, entity, entity_id, before, after) VALUES ($1, $2, $3, $4, $5, $6)', [
    e.actor,
    e.action,
    e.entity,
    String(e.entityId),
    e.before === undefined ? null : JSON.stringify(e.before),
    e.after === undefined ? null : JSON.stringify(e.after),
  ]);
}

export interface AuditRow {
  at: Date;
  actor: string;
  action: string;
  before: unknown;
  after: unknown;
}

export async function auditTrail(db: Queryable, entity: AuditEntry['entity'], entityId: string | number): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    'SELECT at, actor, action, before, after FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY id',
    [entity, String(entityId)],
  );
  return rows;
}
