import type { ComponentFactory } from '../serve/component.js';
import { startSftpServer } from './sftp-server.js';

/** The SFTP listener as a part of `filudveksling serve` (roles all and sftp). */
export const sftpComponent: ComponentFactory = async ({ config, database, role }) => {
  if (role !== 'all' && role !== 'sftp') return undefined;
  const server = await startSftpServer({ config, pool: database.pool });
  return {
    name: 'sftp',
    // Graceful: no new logins; open uploads may finish for up to the drain timeout (README, Operations).
    stop: () => server.stop(config.drainMs),
  };
};
