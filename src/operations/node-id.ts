import { hostname } from 'node:os';

/**
 * This process's name among the nodes sharing one database: host, pid and start time (a restarted
 * node is a new one). The heartbeat reports it; fetch and delete records name it.
 */
export const nodeId = `${hostname()}:${process.pid}:${Date.now().toString(36)}`;
