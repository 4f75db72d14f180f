import { randomUUID } from 'node:crypto';
import type { Config } from '../../config/config.js';
import { everyVersionOf } from '../../infref/infref-name.js';
import type { RouteListRow } from '../../routes/list-routes.js';
import type { HostKey } from '../../sftp/host-keys.js';
import { buildTrigger } from '../../triggers/build-xml.js';

/**
 * "How to connect" on a system's page (SPEC §11): where to log in, which host key fingerprints to
 * pin, and a sample trigger filled in with the system's UUID and, when it has one, its first route —
 * so a vendor can copy it, change the file name and size, and send.
 */
export interface ConnectionGuide {
  host: string;
  port: number;
  username: string;
  fingerprints: Array<{ type: string; fingerprint: string }>;
  sftpCommand: string;
  sampleTrigger: string;
  /** The routes the sample could use (sender = this system). */
  routes: Array<{ infref: string; recipient: string; authority: string }>;
}

export function connectionGuide(
  config: Config & { portalPublicUrl?: string },
  system: { username: string; uuid: string; infrefs?: Array<{ name: string; status: string; declaration: string | null }> },
  routes: RouteListRow[],
  hostKeys: HostKey[],
): ConnectionGuide {
  const host = publicHost(config);
  const port = config.sftpPort;
  const first = routes[0];
  const authorityCvr = first?.cvr ?? '55133018';
  // The version of the route's InfRef that carries data now (active, declaration approved), else its first.
  const prefix = first ? `FagsystemdefineredeDataRefGDPR${first.infrefNumber}_` : undefined;
  const versions = (system.infrefs ?? []).filter((i) => prefix && i.name.startsWith(prefix));
  const carrying = versions.find((i) => i.status === 'active' && i.declaration === 'approved') ?? versions[0];
  const infRef = carrying?.name ?? (prefix ? `${prefix}1` : 'FagsystemdefineredeDataRefGDPR<n>_<v>');
  const sampleTrigger = buildTrigger({
    fileName: 'udtraek-2026-11-28.csv',
    sizeInBytes: 1048576,
    sender: system.username,
    sendersFileId: randomUUID(),
    recipients: ['ROUTING_V1_0_0'],
    routing: {
      infRef,
      senderItSystem: system.uuid,
      senderAuthority: authorityCvr,
      recipientAuthority: authorityCvr,
      transactionId: randomUUID(),
      senderTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  });
  return {
    host,
    port,
    username: system.username,
    fingerprints: hostKeys.map((k) => ({ type: k.type, fingerprint: k.fingerprint })),
    sftpCommand: `sftp -P ${port} -i ~/.ssh/id_ed25519 ${/^[A-Za-z0-9._-]+$/.test(system.username) ? system.username : `'${system.username.replace(/'/g, `'\\''`)}'`}@${host}`,
    sampleTrigger,
    routes: routes.map((r) => ({ ...routeNames(r), recipient: r.recipient })),
  };
}

/** A route as the system's page names it: every version of its InfRef number, and its authority with its kommunekode. */
export function routeNames(r: RouteListRow): { infref: string; authority: string } {
  return { infref: everyVersionOf(r.infrefNumber), authority: `${r.kommunekode ? `${r.kommunekode} ` : ''}${r.authority}` };
}

/** The host people reach: the public URL's host when set, else the SFTP listener's (never 0.0.0.0). */
function publicHost(config: Config & { portalPublicUrl?: string }): string {
  if (config.portalPublicUrl) {
    const host = new URL(config.portalPublicUrl).hostname;
    if (host && host !== '127.0.0.1' && host !== 'localhost') return host;
  }
  return config.sftpHost === '0.0.0.0' || config.sftpHost === '::' ? 'localhost' : config.sftpHost;
}
