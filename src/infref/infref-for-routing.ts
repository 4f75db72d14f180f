import type { Queryable } from '../db/pool.js';
import type { InfRefName } from './infref-name.js';

/**
 * What the router needs to decide SPEC §5's InfRef checks (1101–1104) for one InfRef version.
 * `status` is 'superseded' once a newer version's declaration is approved; `declarationStatus` is
 * null when no declaration was received.
 */
export interface InfRefForRouting {
  id: number;
  number: number;
  version: number;
  ownerSystemId: number;
  status: 'active' | 'revoked' | 'superseded';
  declarationStatus: 'pending' | 'approved' | 'rejected' | null;
}

/**
 * The InfRef version `numberSql`.`versionSql` with its declaration, as SQL whose columns are those of
 * InfRefForRouting (`to_jsonb` of a row gives one): the router asks it inside its one decision query.
 */
export function infrefForRoutingSql(numberSql: string, versionSql: string): string {
  return `SELECT i.id, i.number, i.version, i.owner_system_id AS "ownerSystemId", i.status, d.status AS "declarationStatus"
       FROM infrefs i LEFT JOIN gdpr_declarations d ON d.infref_id = i.id
      WHERE i.number = ${numberSql} AND i.version = ${versionSql}`;
}

export async function infrefForRouting(db: Queryable, ref: InfRefName): Promise<InfRefForRouting | undefined> {
  const { rows } = await db.query<InfRefForRouting>(infrefForRoutingSql('$1', '$2'), [ref.number, ref.version]);
  return rows[0];
}
