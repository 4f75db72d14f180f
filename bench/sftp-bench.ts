/**
 * SFTP benchmark (`npm run bench sftp`): a real `filudveksling serve --role sftp` against OpenSSH's
 * internal-sftp on a private sshd, in the same run, with the same client (OpenSSH `sftp -c
 * aes128-gcm@openssh.com`), in interleaved rounds (who goes first alternates). Ratios are taken pair
 * by pair: speed = OpenSSH's seconds ÷ ours (≥ 1.0: at least as fast). Server CPU-seconds come from
 * /proc: serve is one process; sshd's session processes are sampled as a tree.
 *
 * Needs root (the private sshd runs as user `fubench`), PostgreSQL (TEST_DATABASE_URL) and
 * openssh-server. BENCH_QUICK=1 small sizes, BENCH_SMOKE=1 tiny ones (CI), BENCH_ONLY=upload,…
 * some scenarios (upload, download, parallelUpload, smallFiles, connect, idle), BENCH_BIG_MIB and
 * the like one size (below), BENCH_CPU_PROF=<dir> a CPU profile of serve, SFTP_FSYNC=on-request our server
 * without the per-upload fsync.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { exec, execOk, GiB, median, MiB, profileWindow, progress, QUICK, randomFile, round, round1, round2, sleep, SMOKE, wanted } from './bench-util.js';
import { benchWorld } from './bench-world.js';
import { leaveBehind } from './leftovers.js';
import { BENCH_USER, startOpensshServer } from './openssh-server.js';
import { processCpuSeconds, processRss, sampleMaxRss, TreeCpu } from './process-stats.js';
import { startServe } from './serve-process.js';

const SIZES = SMOKE
  ? { big: 4 * MiB, parallel: 2, parallelSize: 1 * MiB, small: 10, connects: 3, idle: 5, rounds: 1 }
  : QUICK
    ? { big: 64 * MiB, parallel: 8, parallelSize: 16 * MiB, small: 200, connects: 7, idle: 50, rounds: 2 }
    : { big: 1024 * MiB, parallel: 8, parallelSize: 128 * MiB, small: 1000, connects: 21, idle: 500, rounds: 3 };
// One size changed for trying a change on a loaded machine (each a whole number): BENCH_BIG_MIB,
// BENCH_PARALLEL_MIB (each of the 8), BENCH_SMALL_FILES, BENCH_ROUNDS; BENCH_SMALL_WAITING files
// of 4 KiB already wait in the upload folder when the small files go up (none by default), as
// when routing has not taken a system's files yet.
const WAITING = Number(process.env.BENCH_SMALL_WAITING ?? 0) || 0;
for (const [key, env, unit] of [['big', 'BENCH_BIG_MIB', MiB], ['parallelSize', 'BENCH_PARALLEL_MIB', MiB], ['small', 'BENCH_SMALL_FILES', 1], ['rounds', 'BENCH_ROUNDS', 1]] as const) {
  const v = process.env[env];
  if (v !== undefined && /^[1-9][0-9]*$/.test(v)) SIZES[key] = Number(v) * unit;
}
const FSYNC = process.env.SFTP_FSYNC === 'on-request' ? 'on-request' : 'always';

interface Target {
  name: 'filudveksling' | 'openssh';
  port: number;
  /** Remote folder to upload into, and the folder holding the download file. */
  up: string;
  down: string;
  /** The same folders on disk. */
  upDir: string;
  downDir: string;
  /** CPU seconds the server used while `fn` ran, and its largest RSS meanwhile (ours only). */
  measure(fn: () => Promise<unknown>): Promise<Measure>;
}

interface Measure {
  seconds: number;
  cpuSeconds: number;
  maxRss?: number;
}

export async function run(): Promise<object> {
  const work = await mkdtemp(join(tmpdir(), 'fu-sftp-bench-'));
  leaveBehind(`work folder ${work}`, () => rm(work, { recursive: true, force: true }));
  const keyFile = join(work, 'client_key');
  await execOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  const publicKey = (await readFile(`${keyFile}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');

  progress('starting serve --role sftp…');
  const world = await benchWorld('sftp');
  await world.system(BENCH_USER, publicKey);
  const serve = await startServe({
    role: 'sftp',
    label: 'sftp',
    env: {
      DATABASE_URL: world.serveDbUrl,
      FILUDVEKSLING_DATA: world.dataDir,
      SFTP_FSYNC: FSYNC,
      SFTP_MAX_SESSIONS_PER_SYSTEM: '10000',
      SFTP_MAX_UNAUTHENTICATED: '1000',
      SFTP_MAX_STARTUPS: '1000:30:1000', // no random early drop of the bench's own handshakes
      SFTP_MAX_UNAUTHENTICATED_PER_ADDRESS: '1000',
    },
  });
  progress('starting a private sshd (internal-sftp)…');
  const sshd = await startOpensshServer(work, publicKey);

  const ourHome = join(world.dataDir, 'homes', BENCH_USER);
  const sshdTree = new TreeCpu(sshd.pid);
  const targets: Target[] = [
    {
      name: 'filudveksling',
      port: serve.sftpPort,
      up: '/OUT',
      down: '/IN',
      upDir: join(ourHome, 'OUT'),
      downDir: join(ourHome, 'IN'),
      async measure(fn) {
        const rss = sampleMaxRss(serve.pid);
        const cpu0 = await processCpuSeconds(serve.pid);
        const t0 = performance.now();
        await fn();
        const seconds = (performance.now() - t0) / 1000;
        return { seconds, cpuSeconds: (await processCpuSeconds(serve.pid)) - cpu0, maxRss: await rss.stop() };
      },
    },
    {
      name: 'openssh',
      port: sshd.port,
      up: `${sshd.home}/up`,
      down: `${sshd.home}/down`,
      upDir: join(sshd.home, 'up'),
      downDir: join(sshd.home, 'down'),
      async measure(fn) {
        await sshdTree.start();
        const t0 = performance.now();
        await fn();
        const seconds = (performance.now() - t0) / 1000;
        return { seconds, cpuSeconds: await sshdTree.stop() };
      },
    },
  ];
  for (const t of targets) {
    await mkdir(t.upDir, { recursive: true });
    await mkdir(t.downDir, { recursive: true });
  }

  progress('making input files…');
  const big = join(work, 'big.bin');
  await randomFile(big, SIZES.big);
  const part = join(work, 'part.bin');
  await randomFile(part, SIZES.parallelSize);
  const smallDir = join(work, 'small');
  await mkdir(smallDir);
  const smallName = (i: number) => `f${String(i).padStart(4, '0')}.dat`;
  for (let i = 0; i < SIZES.small; i++) await writeFile(join(smallDir, smallName(i)), randomBytes(4096));
  for (const t of targets) await execOk('cp', ['--reflink=auto', big, join(t.downDir, 'big.bin')]);
  await execOk('chown', ['-R', `${BENCH_USER}:`, targets[1]!.upDir, targets[1]!.downDir]);

  const sftp = (t: Target, commands: string[]) =>
    execOk(
      'sftp',
      ['-q', '-b', '-', '-c', 'aes128-gcm@openssh.com', '-i', keyFile, '-P', String(t.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', `${BENCH_USER}@127.0.0.1`],
      `${commands.join('\n')}\n`,
    );
  const clean = async (t: Target) => {
    for (const f of await readdir(t.upDir)) await unlink(join(t.upDir, f)).catch(() => undefined);
  };

  const waiting = async (t: Target) => {
    for (let i = 0; i < WAITING; i++) await writeFile(join(t.upDir, `waiting${String(i).padStart(5, '0')}.dat`), randomBytes(4096));
    if (t.name === 'openssh') await execOk('chown', ['-R', `${BENCH_USER}:`, t.upDir]);
  };
  const scenarios: Record<string, { bytes: number; files: number; prepare?: (t: Target) => Promise<unknown>; run: (t: Target) => Promise<unknown> }> = {
    upload: { bytes: SIZES.big, files: 1, run: (t) => sftp(t, [`put ${big} ${t.up}/big.bin`]) },
    download: { bytes: SIZES.big, files: 1, run: (t) => sftp(t, [`get ${t.down}/big.bin /dev/null`]) },
    parallelUpload: {
      bytes: SIZES.parallel * SIZES.parallelSize,
      files: SIZES.parallel,
      run: (t) => Promise.all(Array.from({ length: SIZES.parallel }, (_, i) => sftp(t, [`put ${part} ${t.up}/part${i}.bin`]))),
    },
    smallFiles: {
      bytes: SIZES.small * 4096,
      files: SIZES.small,
      prepare: waiting,
      run: (t) => sftp(t, Array.from({ length: SIZES.small }, (_, i) => `put ${join(smallDir, smallName(i))} ${t.up}/`)),
    },
  };

  const results: Record<string, unknown> = {};
  for (const [name, sc] of Object.entries(scenarios)) {
    if (!wanted(name)) continue;
    const pairs: Array<{ ours: Measure; openssh: Measure; speed: number }> = [];
    for (let round = 0; round < SIZES.rounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      const m: Partial<Record<Target['name'], Measure>> = {};
      for (const t of order) {
        await clean(t);
        await sc.prepare?.(t);
        m[t.name] = await (t.name === 'filudveksling' ? profileWindow(name, () => t.measure(() => sc.run(t))) : t.measure(() => sc.run(t)));
        await clean(t);
      }
      const speed = round2(m.openssh!.seconds / m.filudveksling!.seconds);
      pairs.push({ ours: m.filudveksling!, openssh: m.openssh!, speed });
      progress(`${name} round ${round + 1}: ours ${m.filudveksling!.seconds.toFixed(2)} s, OpenSSH ${m.openssh!.seconds.toFixed(2)} s`);
    }
    results[name] = summarize(sc.bytes, sc.files, pairs);
  }

  if (wanted('connect')) {
    const connectMs: Record<Target['name'], number[]> = { filudveksling: [], openssh: [] };
    for (let i = 0; i < SIZES.connects; i++) {
      for (const t of i % 2 === 0 ? targets : [...targets].reverse()) {
        const t0 = performance.now();
        await sftp(t, ['pwd']);
        connectMs[t.name].push(performance.now() - t0);
      }
    }
    results.connectAuthPwdQuit = { oursMedianMs: round(median(connectMs.filudveksling)), opensshMedianMs: round(median(connectMs.openssh)), runs: SIZES.connects };
  }
  if (wanted('idle')) results.idleSessions = await idleSessions(serve.pid, serve.sftpPort, await readFile(keyFile, 'utf8'));

  return {
    sizes: SMOKE ? 'smoke' : QUICK ? 'quick' : 'full',
    fsync: FSYNC,
    cipher: 'aes128-gcm@openssh.com',
    client: (await exec('ssh', ['-V'])).stderr.trim(),
    note: 'speedVsOpenssh = OpenSSH seconds ÷ ours, per interleaved pair (≥ 1.0: at least as fast). cpuRatio = our server CPU ÷ OpenSSH server CPU. With fsync "always" our uploads fsync before the rename; internal-sftp does not fsync.',
    ...results,
  };
}

function summarize(bytes: number, files: number, pairs: Array<{ ours: Measure; openssh: Measure; speed: number }>): object {
  const gib = bytes / GiB;
  const ours = median(pairs.map((p) => p.ours.cpuSeconds));
  const openssh = median(pairs.map((p) => p.openssh.cpuSeconds));
  return {
    bytes,
    files,
    speedVsOpenssh: { median: median(pairs.map((p) => p.speed)), pairs: pairs.map((p) => p.speed) },
    oursMBps: median(pairs.map((p) => round(bytes / MiB / p.ours.seconds))),
    opensshMBps: median(pairs.map((p) => round(bytes / MiB / p.openssh.seconds))),
    oursServerCpuSecondsPerGiB: round2(ours / gib),
    opensshServerCpuSecondsPerGiB: round2(openssh / gib),
    oursServerCpuMsPerFile: round2((ours * 1000) / files),
    opensshServerCpuMsPerFile: round2((openssh * 1000) / files),
    cpuRatio: openssh > 0 ? round2(ours / openssh) : null,
    oursMaxRssMB: round1(Math.max(...pairs.map((p) => p.ours.maxRss ?? 0)) / 1e6),
  };
}

/** Our server's RSS with N logged-in, idle SFTP sessions (ssh2 clients). */
async function idleSessions(pid: number, port: number, privateKey: string): Promise<object> {
  const rssBefore = await processRss(pid);
  const clients: ssh2.Client[] = [];
  try {
    for (let i = 0; i < SIZES.idle; i += 10) {
      await Promise.all(
        Array.from(
          { length: Math.min(10, SIZES.idle - i) },
          () =>
            new Promise<void>((resolve, reject) => {
              const c = new ssh2.Client();
              clients.push(c);
              c.on('error', reject);
              c.on('ready', () => c.sftp((err) => (err ? reject(err) : resolve())));
              c.connect({ host: '127.0.0.1', port, username: BENCH_USER, privateKey, algorithms: { cipher: ['aes128-gcm@openssh.com'] } });
            }),
        ),
      );
    }
    await sleep(1000);
    return { sessions: SIZES.idle, serverRssMB: round1((await processRss(pid)) / 1e6), serverRssBeforeMB: round1(rssBefore / 1e6) };
  } finally {
    for (const c of clients) c.end();
  }
}
