import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';
import type { AuthContext, Connection } from 'ssh2';
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { log } from '../log.js';
import { activeSessions as sessionsGauge, failedLogins } from '../metrics/metrics.js';
import { dataLayout, homeDir } from '../storage/homes.js';
import { loadHostKeys, type HostKey } from './host-keys.js';
import { raiseDescriptorLimit } from './descriptors.js';
import { HandleBudget } from './handle-budget.js';
import { quotaAndSpooled } from '../systems/held-bytes.js';
import { PublicKeyLogin } from './public-key-login.js';
import { LoginGuard, type LoginGuardOptions } from './login-guard.js';
import { SealedHome } from './sealed-home.js';
import { SftpSession } from './sftp-session.js';
import { SystemQuota, SystemQuotas } from './upload-quota.js';
import type { UploadFsync } from './upload.js';
import { sshAlgorithms } from './ssh-algorithms.js';
import { batchWrites } from './batched-writes.js';
import { dropSha1HostKeyAlgorithm, nativeCryptoLoaded, socketOf } from './sftp-wire.js';
import { sweepStaleUploads } from './stale-uploads.js';
import { listenForSystemChanges } from './system-changes.js';
import { recordDeleted, recordFetched } from '../deliveries/record-fetch.js';
import { nodeId } from '../operations/node-id.js';
import type { DeliveryEvents } from './fetch-tracking.js';

export interface SftpLimits extends LoginGuardOptions {
  /** An unauthenticated connection is closed after this long (OpenSSH's LoginGraceTime). */
  loginGraceMs: number;
  /** Authentication attempts allowed on one connection before it is closed. */
  maxAuthTries: number;
  /** Logged-in connections one system may hold at once. */
  maxSessionsPerSystem: number;
  /** Open file and folder handles per SFTP session. */
  maxHandlesPerSession: number;
  /** Open handles per system, over all its sessions on this node. */
  maxHandlesPerSystem: number;
  /** Descriptors kept free of SFTP handles for the database, the queue, HTTP and the SSH sockets. */
  descriptorReserve: number;
  /** Session channels (each one SFTP session) open at once on one connection (OpenSSH's MaxSessions). */
  maxChannelsPerConnection: number;
  /** A client that leaves its responses unread this long loses the session. */
  stalledMs: number;
}

/**
 * The limits no setting changes. The others come from `config.sftp`, whose schema holds their
 * defaults (src/config/config-schema.ts), so a default is written in one place.
 */
const FIXED_SFTP_LIMITS = { maxAuthTries: 10, maxChannelsPerConnection: 10, stalledMs: 120_000 };

export interface SftpServerOptions {
  config: Config;
  pool: pg.Pool;
  /** Overrides config.sftpHost/sftpPort (tests use port 0). */
  host?: string;
  port?: number;
  limits?: Partial<SftpLimits>;
  /** When upload bytes are fsync'd before the rename (default 'always'; see UploadFsync). */
  fsync?: UploadFsync;
  /** Also offer the NIST-curve key exchanges (SFTP_NIST_KEX=on), for clients without curve25519. */
  nistKex?: boolean;
  /** ssh2's protocol trace (very verbose), for diagnosing a client. */
  sshDebug?: (message: string) => void;
}

export interface SftpServer {
  port: number;
  hostKeys: HostKey[];
  nativeCrypto: boolean;
  /** Logged-in connections right now. */
  activeSessions(): number;
  /** Re-checks a system in the database and ends its sessions if it may no longer log in. */
  recheckSystem(username: string): Promise<void>;
  /**
   * Graceful stop: no new connections or logins; logged-in sessions may finish the uploads and
   * reads they have open (new opens are refused with a message) for up to `drainMs`, and each ends
   * as soon as it has nothing open. What is still open then is cut off: unfinished uploads leave
   * nothing behind.
   */
  stop(drainMs?: number): Promise<void>;
}

interface SocketMeta {
  authenticated: boolean;
  grace: NodeJS.Timeout;
  state?: ConnState;
}

interface ConnState {
  id: string;
  address: string;
  conn: Connection;
  authenticated: boolean;
  triedToLogIn: boolean;
  authAttempts: number;
  systemId?: number;
  username?: string;
  keyBlob?: Buffer;
  sessions: Set<SftpSession>;
  closed: boolean;
}

/**
 * The SFTP edge (SPEC §2–3): ssh2's Server behind our own TCP listener (which refuses banned and
 * excess connections before any SSH work and sets TCP_NODELAY), public-key login against the
 * systems' active keys in PostgreSQL, and one SftpSession per SFTP channel.
 */
export async function startSftpServer(opts: SftpServerOptions): Promise<SftpServer> {
  const { config, pool } = opts;
  const { fsync, nistKex, ...configured } = config.sftp;
  const limits: SftpLimits = { ...configured, ...FIXED_SFTP_LIMITS, ...opts.limits };
  const deliveries: DeliveryEvents = {
    fetched: (file) => recordFetched(opts.pool, file, nodeId),
    deleted: (file) => recordDeleted(opts.pool, file, nodeId),
  };
  const layout = dataLayout(config.dataDir);
  const hostKeys = await loadHostKeys(layout.hostkeys);
  const nativeCrypto = nativeCryptoLoaded();
  for (const k of hostKeys) log.info({ op: 'sftp', hostKey: k.type, fingerprint: k.fingerprint }, `SSH host key ${k.type} ${k.fingerprint}`);
  if (nativeCrypto) log.info({ op: 'sftp', nativeCrypto }, "ssh2's native crypto addon (sshcrypto.node) is loaded");
  else log.warn({ op: 'sftp', nativeCrypto }, "ssh2's native crypto addon (sshcrypto.node) did NOT load: SFTP runs far slower; rebuild ssh2 (npm rebuild ssh2)");
  await sweepStaleUploads(layout.homes).catch((err: unknown) => log.warn({ op: 'sftp', err }, 'could not sweep stale uploads'));

  const guard = new LoginGuard(limits);
  const fdLimit = raiseDescriptorLimit(log);
  if (fdLimit && fdLimit.soft - limits.descriptorReserve < limits.maxHandlesPerSystem) {
    log.warn({ op: 'sftp', soft: fdLimit.soft, reserve: limits.descriptorReserve }, `the open-file limit (${fdLimit.soft}) leaves few descriptors for SFTP handles after the reserve of ${limits.descriptorReserve}; raise it (ulimit -n)`);
  }
  // Every SSH connection holds a socket: what is left after the reserve and those is for handles.
  const handleBudget = new HandleBudget(limits.maxHandlesPerSystem, fdLimit ? () => fdLimit.soft - limits.descriptorReserve - conns.size : undefined);
  const sockets = new WeakMap<Socket, SocketMeta>();
  const conns = new Set<ConnState>();
  const sessionsBySystem = new Map<string, Set<ConnState>>();
  const logins = new PublicKeyLogin(pool, limits.maxAuthTries);
  const quotas = new SystemQuotas(
    (systemId, outDir) =>
      new SystemQuota(outDir, () => quotaAndSpooled(pool, systemId), (err, kept) =>
        log.warn(
          { op: 'upload', systemId, err: err.message },
          kept ? 'could not measure the quota again; uploads are held to the last measurement' : 'could not read the quota; uploads go on without it until the database answers',
        ),
      ),
  );

  const sshServer = new ssh2.Server({
    hostKeys: hostKeys.map((k) => k.privateKey),
    algorithms: sshAlgorithms({ nistKex: opts.nistKex ?? nistKex }),
    ident: 'filudveksling',
    ...(opts.sshDebug ? { debug: opts.sshDebug } : {}),
  });

  sshServer.on('connection', (conn: Connection, info) => {
    dropSha1HostKeyAlgorithm(conn);
    const socket = socketOf(conn);
    const state: ConnState = {
      id: randomBytes(4).toString('hex'),
      address: info.ip,
      conn,
      authenticated: false,
      triedToLogIn: false,
      authAttempts: 0,
      sessions: new Set(),
      closed: false,
    };
    conns.add(state);
    const meta = sockets.get(socket);
    if (meta) meta.state = state;
    const clog = log.child({ op: 'sftp', conn: state.id, address: state.address });

    conn.on('authentication', (ctx: AuthContext) => {
      void authenticate(state, ctx, clog).catch((err: unknown) => {
        clog.error({ err }, 'login check failed');
        ctx.reject(['publickey']);
      });
    });

    conn.on('ready', () => {
      clog.info({ system: state.username }, `${state.username} logged in`);
      // Only the sftp subsystem: shell, exec, pty, forwarding and the like have no handler and are refused.
      let channels = 0;
      conn.on('session', (acceptSession, rejectSession) => {
        if (channels >= limits.maxChannelsPerConnection) {
          clog.warn({ system: state.username, channels }, `refused a session channel: ${channels} are open on this connection (the limit)`);
          return rejectSession();
        }
        channels++;
        const session = acceptSession();
        session.once('close', () => channels--);
        session.on('sftp', (acceptSftp) => {
          openSftp(state, acceptSftp, clog.child({ system: state.username }));
        });
      });
    });

    conn.on('error', (err: Error) => clog.debug({ err: err.message }, 'connection error'));
    conn.on('close', () => {
      state.closed = true;
      conns.delete(state);
      if (state.authenticated) {
        sessionsGauge.dec();
        sessionsBySystem.get(state.username!)?.delete(state);
        clog.info({ system: state.username }, `${state.username} logged out`);
      } else if (state.triedToLogIn) {
        clog.warn({ attempts: state.authAttempts }, 'connection closed without a successful login');
      }
      for (const s of state.sessions) void s.end();
    });
  });

  async function authenticate(state: ConnState, ctx: AuthContext, clog: typeof log): Promise<void> {
    const login = await logins.attempt(state, ctx, clog);
    if (!login) return;
    const active = sessionsBySystem.get(login.username) ?? new Set<ConnState>();
    if (active.size >= limits.maxSessionsPerSystem) {
      clog.warn({ system: login.username, sessions: active.size }, `login refused: ${login.username} already has ${active.size} sessions (the limit)`);
      return ctx.reject(['publickey']);
    }
    state.authenticated = true;
    state.systemId = login.systemId;
    state.username = login.username;
    state.keyBlob = login.keyBlob;
    active.add(state);
    sessionsBySystem.set(login.username, active);
    const meta = sockets.get(socketOf(state.conn));
    if (meta) {
      clearTimeout(meta.grace);
      meta.authenticated = true;
    }
    guard.authenticated(state.address);
    sessionsGauge.inc();
    ctx.accept();
  }

  function openSftp(state: ConnState, acceptSftp: () => import('ssh2').SFTPWrapper, slog: typeof log): void {
    const home = new SealedHome(homeDir(config.dataDir, state.username!));
    // Accept at once (the client's INIT may already be on its way); requests wait for the home.
    const sftp = acceptSftp();
    const ready = home.prepare();
    ready.catch((err: unknown) => slog.error({ err }, 'cannot prepare the home folder; closing the session'));
    const session = new SftpSession(sftp, {
      owner: { systemId: state.systemId!, username: state.username! },
      home,
      maxFileBytes: config.maxFileBytes,
      fsync: opts.fsync ?? fsync,
      maxHandles: limits.maxHandlesPerSession,
      budget: handleBudget,
      quota: quotas.acquire(state.systemId!, home.outDir),
      stalledMs: limits.stalledMs,
      log: slog,
      ready,
      deliveries,
      onStalled: () => {
        sftp.end();
        state.conn.end();
      },
    });
    state.sessions.add(session);
    let released = false;
    const end = () => {
      state.sessions.delete(session);
      if (!released) quotas.release(state.systemId!);
      released = true;
      void session.end();
    };
    sftp.on('error', (err: Error) => {
      slog.warn({ err: err.message }, `SFTP protocol error; ending the session: ${err.message}`);
      end();
    });
    // The client sent EOF: answer what is in flight (a CLOSE may still be renaming), then close.
    sftp.on('end', () => {
      void session.settled().then(() => {
        end();
        sftp.end();
      });
    });
    sftp.on('close', end);
  }

  async function recheckSystem(username: string): Promise<void> {
    const active = sessionsBySystem.get(username);
    if (!active || active.size === 0) return;
    const keys = await logins.keysOf(username);
    for (const state of [...active]) {
      if (keys?.some((k) => k.getPublicSSH().equals(state.keyBlob!))) continue;
      log.warn(
        { op: 'sftp', system: username, conn: state.id },
        keys ? `ending a session of ${username}: its login key was removed` : `ending the sessions of ${username}: the system is disabled`,
      );
      for (const s of state.sessions) await s.end();
      state.conn.end();
      socketOf(state.conn).destroy();
    }
  }

  const listener = await listenForSystemChanges(
    pool,
    (username) => void recheckSystem(username).catch((err: unknown) => log.error({ op: 'sftp', err, system: username }, 'could not re-check a changed system')),
    () => {
      for (const username of sessionsBySystem.keys()) void recheckSystem(username).catch(() => undefined);
    },
  );

  const tcp: NetServer = createServer({ noDelay: true, pauseOnConnect: false }, (socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const admission = guard.admit(address);
    if (!admission.ok) {
      log.warn({ op: 'sftp', address, reason: admission.reason }, `refused a connection: ${admission.reason}`);
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    batchWrites(socket);
    socket.on('error', () => undefined);
    // Login grace time from TCP accept (a client that never even sends its SSH version counts too).
    const meta: SocketMeta = {
      authenticated: false,
      grace: setTimeout(() => {
        log.warn({ op: 'sftp', address, graceMs: limits.loginGraceMs }, 'no login within the grace time; closing the connection');
        socket.destroy();
      }, limits.loginGraceMs),
    };
    meta.grace.unref();
    sockets.set(socket, meta);
    socket.once('close', () => {
      clearTimeout(meta.grace);
      if (!meta.authenticated) {
        const failed = meta.state?.triedToLogIn ?? false;
        guard.ended(address, failed);
        if (failed) failedLogins.inc();
      }
    });
    sshServer.injectSocket(socket);
  });
  const host = opts.host ?? config.sftpHost;
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port ?? config.sftpPort, host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  tcp.on('error', (err) => log.error({ op: 'sftp', err }, 'SFTP listener error'));
  const port = (tcp.address() as { port: number }).port;
  log.info({ op: 'sftp', host, port, nativeCrypto }, `SFTP listening on ${host}:${port}`);

  let stopping: Promise<void> | undefined;
  return {
    port,
    hostKeys,
    nativeCrypto,
    activeSessions: () => [...conns].filter((c) => c.authenticated).length,
    recheckSystem,
    stop: (drainMs = 0) =>
      (stopping ??= (async () => {
        const t0 = Date.now();
        const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
        const ending = new Map<ConnState, Promise<void>>();
        const endConn = (c: ConnState, graceMs: number) => {
          if (!ending.has(c)) {
            ending.set(c, (async () => {
              for (const s of c.sessions) await s.end();
              c.conn.end();
              const sock = socketOf(c.conn);
              // Let the last responses reach the client, then make sure the socket goes.
              if (graceMs > 0 && !c.closed) await new Promise<void>((resolve) => { const t = setTimeout(resolve, graceMs); sock.once('close', () => { clearTimeout(t); resolve(); }); });
              sock.destroy();
            })());
          }
          return ending.get(c)!;
        };
        const busy = () => [...conns].filter((c) => c.authenticated && !ending.has(c));
        if (drainMs > 0 && busy().length > 0) log.info({ op: 'sftp', sessions: busy().length, drainMs }, `stopping: no new logins; ${busy().length} session(s) may finish what they have open (up to ${drainMs} ms)`);
        const deadline = t0 + drainMs;
        for (;;) {
          for (const c of [...conns]) {
            for (const s of c.sessions) s.drain();
            if (!c.authenticated || [...c.sessions].every((s) => s.idle)) void endConn(c, 1000);
          }
          if (busy().length === 0 || Date.now() >= deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const cut = busy();
        if (cut.length > 0) log.warn({ op: 'sftp', sessions: cut.length, drainMs }, `drain timeout: cutting off ${cut.length} session(s) with transfers still open; their unfinished uploads are discarded`);
        await Promise.all([...conns].map((c) => endConn(c, 0)));
        await Promise.all(ending.values());
        await listener.stop();
        await closed;
        log.info({ op: 'sftp', ms: Date.now() - t0, cutOff: cut.length }, 'SFTP stopped');
      })()),
  };
}
