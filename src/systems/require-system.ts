import type { Queryable } from '../db/pool.js';
import { RefusedError } from '../errors.js';
import { quoteArg } from '../vendors/find-vendor.js';
import { findSystemByUsername, type SystemRow } from './find-system.js';

/** The system of that user name, or a refusal that says where to look. `role` names it in the message. */
export async function requireSystem(db: Queryable, username: string, role = 'system'): Promise<SystemRow> {
  const system = await findSystemByUsername(db, username);
  if (!system) {
    throw new RefusedError(`Unknown ${role} '${username}': no system has that user name (see 'filudveksling system list', or register it with 'filudveksling system register ${quoteArg(username)} --vendor … --ssh-key …').`, {
      code: 'system-unknown',
      values: { username },
    });
  }
  return system;
}
