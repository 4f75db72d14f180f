/**
 * SFTP benchmark: filudveksling's SFTP server against OpenSSH's internal-sftp on the same machine,
 * in the same run, with the same client (OpenSSH `sftp -c aes128-gcm@openssh.com`), in interleaved
 * rounds; ratios are taken pair by pair (ours ÷ OpenSSH's time, so < 1 is faster… reported as
 * "speed" = OpenSSH time ÷ ours, ≥ 1.0 means at least as fast). Server CPU-seconds are read from
 * /proc: our server runs in a child process; sshd's sessions are reaped by its master, so their
 * CPU shows in the master's cutime/cstime.
 *
 * Needs root (a private sshd on a loopback port with its own config, host key and user
 * `fubench`), PostgreSQL (TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test) and
 * openssh-server. BENCH_QUICK=1 uses small sizes so it can be tried in a minute; SFTP_FSYNC=on-request
 * measures our server without the per-upload fsync.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod, readdir, unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import pg from 'pg';

const QUICK = process.env.BENCH_QUICK === '1';
const MiB = 1024 * 1024;
const SIZES = QUICK
  ? { big: 64 * MiB, parallel: 8, parallelSize: 16 * MiB, small: 200, connects: 7, idle: 50, rounds: 2 }
  : { big: 1024 * MiB, parallel: 8, parallelSize: 128 * MiB, small: 1000, connects: 21, idle: 500, rounds: 3 };
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DIST = fileURLToPath(new URL('../src/', import.meta.url));
const BENCH_USER = 'fubench';

interface Target {
  name: 'filudveksling' | 'openssh';
  port: number;
  user: string;
  /** Remote folder to upload into, and the folder holding the download file. */
  up: string;
  down: string;
  /** Local folders the same. */
  upDir: string;
  downDir: string;
  /** CPU seconds the server has used so far (our server: one process). */
  cpu(): Promise<number>;
  /** For sshd: its process tree, sampled while a measurement runs. */
  tree?: TreeCpu;
  rss(): Promise<number>;
}

export async function run(): Promise<object> {
  const work = await mkdtemp(join(tmpdir(), 'fu-sftp-bench-'));
  const children: ChildProcess[] = [];
  const killChildren = () => children.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', killChildren);
  let dbName: string | undefined;
  try {
    const keyFile = join(work, 'client_key');
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    const pub = (await readFile(`${keyFile}.pub`, 'utf8')).trim().split(/\s+/);

    // --- our server, in a child process, on a database of its own -----------------------------
    dbName = `fu_sftp_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const dbUrl = new URL(ADMIN_URL);
    dbUrl.pathname = `/${dbName}`;
    const dataDir = join(work, 'fu-data');
    process.stderr.write('  starting our server…\n');
    const ours = await startOurs(dbUrl.toString(), dataDir, `${pub[0]} ${pub[1]}`, children);

    // --- OpenSSH's internal-sftp on a private sshd ---------------------------------------------
    process.stderr.write('  starting a private sshd (internal-sftp)…\n');
    const sshd = await startSshd(work, `${pub[0]} ${pub[1]}`, children);

    const ourHome = join(dataDir, 'homes', BENCH_USER);
    const targets: Target[] = [
      { name: 'filudveksling', port: ours.port, user: BENCH_USER, up: '/OUT', down: '/IN', upDir: join(ourHome, 'OUT'), downDir: join(ourHome, 'IN'), cpu: () => procCpu(ours.pid, false), rss: () => procRss(ours.pid) },
      { name: 'openssh', port: sshd.port, user: BENCH_USER, up: `${sshd.home}/up`, down: `${sshd.home}/down`, upDir: join(sshd.home, 'up'), downDir: join(sshd.home, 'down'), cpu: () => procCpu(sshd.pid, true), tree: new TreeCpu(sshd.pid), rss: async () => 0 },
    ];
    for (const t of targets) {
      await mkdir(t.upDir, { recursive: true });
      await mkdir(t.downDir, { recursive: true });
    }
    if (sshd.chownTo) for (const t of targets.slice(1)) await exec('chown', ['-R', sshd.chownTo, t.upDir, t.downDir]);

    process.stderr.write('  making input files…\n');
    // --- input files -------------------------------------------------------------------------
    const big = join(work, 'big.bin');
    await randomFile(big, SIZES.big);
    const part = join(work, 'part.bin');
    await randomFile(part, SIZES.parallelSize);
    const smallDir = join(work, 'small');
    await mkdir(smallDir);
    for (let i = 0; i < SIZES.small; i++) await writeFile(join(smallDir, `f${String(i).padStart(4, '0')}.dat`), randomBytes(4096));
    for (const t of targets) await exec('cp', ['--reflink=auto', big, join(t.downDir, 'big.bin')]);
    if (sshd.chownTo) await exec('chown', ['-R', sshd.chownTo, targets[1]!.downDir]);

    const sftp = (t: Target, commands: string[]) =>
      execOk('sftp', ['-q', '-b', '-', '-c', 'aes128-gcm@openssh.com', '-i', keyFile, '-P', String(t.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', `${t.user}@127.0.0.1`], `${commands.join('\n')}\n`);
    const clean = async (t: Target) => {
      for (const f of await readdir(t.upDir)) await unlink(join(t.upDir, f)).catch(() => undefined);
    };

    type Measure = { seconds: number; cpuSeconds: number; maxRssMB?: number };
    const measure = async (t: Target, fn: () => Promise<unknown>): Promise<Measure> => {
      let maxRss = 0;
      const sampler = setInterval(() => void t.rss().then((r) => (maxRss = Math.max(maxRss, r))), 100);
      const cpu0 = await t.cpu();
      await t.tree?.start();
      const t0 = performance.now();
      await fn();
      const seconds = (performance.now() - t0) / 1000;
      const cpuSeconds = t.tree ? await t.tree.stop() : (await t.cpu()) - cpu0;
      clearInterval(sampler);
      maxRss = Math.max(maxRss, await t.rss());
      return { seconds, cpuSeconds, ...(t.name === 'filudveksling' ? { maxRssMB: round(maxRss / MiB) } : {}) };
    };

    const scenarios: Record<string, { bytes: number; run: (t: Target) => Promise<unknown> }> = {
      upload: { bytes: SIZES.big, run: (t) => sftp(t, [`put ${big} ${t.up}/big.bin`]) },
      download: { bytes: SIZES.big, run: (t) => sftp(t, [`get ${t.down}/big.bin /dev/null`]) },
      parallelUpload: {
        bytes: SIZES.parallel * SIZES.parallelSize,
        run: (t) => Promise.all(Array.from({ length: SIZES.parallel }, (_, i) => sftp(t, [`put ${part} ${t.up}/part${i}.bin`]))),
      },
      smallFiles: {
        bytes: SIZES.small * 4096,
        run: (t) => sftp(t, Array.from({ length: SIZES.small }, (_, i) => `put ${join(smallDir, `f${String(i).padStart(4, '0')}.dat`)} ${t.up}/`)),
      },
    };

    const results: Record<string, unknown> = {};
    for (const [name, sc] of Object.entries(scenarios)) {
      const pairs: Array<{ ours: Measure; openssh: Measure; speed: number }> = [];
      for (let round = 0; round < SIZES.rounds; round++) {
        // Interleaved; who goes first alternates.
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        const m: Partial<Record<Target['name'], Measure>> = {};
        for (const t of order) {
          await clean(t);
          m[t.name] = await measure(t, () => sc.run(t));
          await clean(t);
        }
        pairs.push({ ours: m.filudveksling!, openssh: m.openssh!, speed: round2(m.openssh!.seconds / m.filudveksling!.seconds) });
        process.stderr.write(`  ${name} round ${round + 1}: ours ${m.filudveksling!.seconds.toFixed(2)} s, OpenSSH ${m.openssh!.seconds.toFixed(2)} s\n`);
      }
      const gib = sc.bytes / (1024 * MiB);
      results[name] = {
        bytes: sc.bytes,
        speedVsOpenssh: { median: median(pairs.map((p) => p.speed)), pairs: pairs.map((p) => p.speed) },
        oursMBps: median(pairs.map((p) => round(sc.bytes / MiB / p.ours.seconds))),
        opensshMBps: median(pairs.map((p) => round(sc.bytes / MiB / p.openssh.seconds))),
        oursServerCpuSecondsPerGiB: median(pairs.map((p) => round2(p.ours.cpuSeconds / gib))),
        opensshServerCpuSecondsPerGiB: median(pairs.map((p) => round2(p.openssh.cpuSeconds / gib))),
        oursMaxRssMB: Math.max(...pairs.map((p) => p.ours.maxRssMB ?? 0)),
      };
    }

    // --- connect + auth + pwd + quit -----------------------------------------------------------
    const connectMs: Record<string, number[]> = { filudveksling: [], openssh: [] };
    for (let i = 0; i < SIZES.connects; i++) {
      for (const t of i % 2 === 0 ? targets : [...targets].reverse()) {
        const t0 = performance.now();
        await sftp(t, ['pwd']);
        connectMs[t.name]!.push(performance.now() - t0);
      }
    }
    results.connectAuthPwdQuit = {
      oursMedianMs: round(median(connectMs.filudveksling!)),
      opensshMedianMs: round(median(connectMs.openssh!)),
      runs: SIZES.connects,
    };

    // --- idle sessions: our server's RSS with N logged-in SFTP sessions ----------------------
    const rssBefore = await procRss(ours.pid);
    const clients: ssh2.Client[] = [];
    const privateKey = await readFile(keyFile, 'utf8');
    for (let i = 0; i < SIZES.idle; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, SIZES.idle - i) }, () =>
          new Promise<void>((resolve, reject) => {
            const c = new ssh2.Client();
            c.on('error', reject);
            c.on('ready', () => c.sftp((err) => (err ? reject(err) : resolve())));
            c.connect({ host: '127.0.0.1', port: ours.port, username: BENCH_USER, privateKey, algorithms: { cipher: ['aes128-gcm@openssh.com'] } });
            clients.push(c);
          }),
        ),
      );
    }
    await sleep(1000);
    const rssIdle = await procRss(ours.pid);
    for (const c of clients) c.end();
    results.idleSessions = { sessions: SIZES.idle, serverRssMB: round(rssIdle / MiB), serverRssBeforeMB: round(rssBefore / MiB) };

    return {
      quick: QUICK,
      fsync: process.env.SFTP_FSYNC === 'on-request' ? 'on-request' : 'always',
      cipher: 'aes128-gcm@openssh.com',
      client: (await exec('ssh', ['-V'])).stderr.trim(),
      note: 'speedVsOpenssh = OpenSSH seconds ÷ ours, per interleaved pair (≥ 1.0: at least as fast). With fsync "always" our uploads fsync before the rename (SFTP_FSYNC=on-request: only when asked); internal-sftp does not fsync.',
      ...results,
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await sleep(300);
    if (dbName) {
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    }
    await rm(work, { recursive: true, force: true });
  }
}

async function startOurs(dbUrl: string, dataDir: string, publicKey: string, children: ChildProcess[]): Promise<{ port: number; pid: number }> {
  const script = `
    import pg from 'pg';
    import { startSftpServer } from ${JSON.stringify(join(DIST, 'sftp/sftp-server.js'))};
    import { loadConfig } from ${JSON.stringify(join(DIST, 'config/config.js'))};
    import { migrate } from ${JSON.stringify(join(DIST, 'db/migrate.js'))};
    const pool = new pg.Pool({ connectionString: ${JSON.stringify(dbUrl)}, max: 10 });
    await migrate(pool);
    const v = await pool.query("INSERT INTO vendors (name) VALUES ('bench') RETURNING id");
    const s = await pool.query("INSERT INTO systems (username, uuid, vendor_id) VALUES ('${BENCH_USER}', gen_random_uuid(), $1) RETURNING id", [v.rows[0].id]);
    await pool.query("INSERT INTO system_keys (system_id, key_type, fingerprint, public_key) VALUES ($1, $2, 'bench', $3)", [s.rows[0].id, ${JSON.stringify(publicKey.split(' ')[0])}, ${JSON.stringify(publicKey)}]);
    const config = loadConfig({ FILUDVEKSLING_DATA: ${JSON.stringify(dataDir)}, DATABASE_URL: ${JSON.stringify(dbUrl)}, LOG_LEVEL: 'warn' });
    const server = await startSftpServer({ config, pool, host: '127.0.0.1', port: 0, limits: { maxSessionsPerSystem: 10000, maxUnauthenticatedPerAddress: 1000, maxUnauthenticated: 1000 }, fsync: ${JSON.stringify(process.env.SFTP_FSYNC === 'on-request' ? 'on-request' : 'always')} });
    process.stdout.write('PORT ' + server.port + '\\n');
    process.on('SIGTERM', () => server.stop().then(() => pool.end()).then(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`our SFTP server exited (${code})`)));
  });
  return { port, pid: child.pid! };
}

async function startSshd(work: string, publicKey: string, children: ChildProcess[]): Promise<{ port: number; pid: number; home: string; chownTo?: string }> {
  const dir = join(work, 'sshd');
  await mkdir(dir);
  await mkdir('/run/sshd', { recursive: true });
  const home = join(work, 'openssh-home');
  await mkdir(home);
  // The bench user exists once on the machine (a system user with no password and no shell login).
  const exists = await exec('id', [BENCH_USER]);
  if (exists.code !== 0) await exec('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', BENCH_USER]);
  await exec('usermod', ['-p', '*', BENCH_USER]); // no password, but not "locked" (sshd without PAM refuses locked accounts)
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  await writeFile(join(dir, 'authorized_keys'), `${publicKey}\n`);
  await chmod(join(dir, 'authorized_keys'), 0o644);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    `AllowUsers ${BENCH_USER}`,
    'Subsystem sftp internal-sftp',
    `ForceCommand internal-sftp -d ${home}`,
    'MaxStartups 100',
    'MaxSessions 100',
    'LogLevel ERROR',
  ].join('\n');
  await writeFile(join(dir, 'sshd_config'), `${config}\n`);
  await chmod(work, 0o755);
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    }).catch(() => false);
    if (ok) break;
    await sleep(100);
  }
  return { port, pid: child.pid!, home, chownTo: `${BENCH_USER}:` };
}


/**
 * CPU seconds of a process tree, sampled: every process under `root` is read while it lives and
 * its own utime+stime kept (sshd forks and re-execs per connection; what a session process used in
 * its last < 50 ms before exiting is missed).
 */
class TreeCpu {
  private readonly seen = new Map<number, number>();
  private readonly baseline = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly root: number) {}
  async start(): Promise<void> {
    this.seen.clear();
    this.baseline.clear();
    for (const [pid, ticks] of await this.tree()) this.baseline.set(pid, ticks); // what ran before does not count
    this.timer = setInterval(() => void this.sample(), 20);
  }
  async stop(): Promise<number> {
    clearInterval(this.timer);
    await this.sample();
    let ticks = 0;
    for (const t of this.seen.values()) ticks += t;
    return ticks / 100;
  }
  private async sample(): Promise<void> {
    for (const [pid, ticks] of await this.tree()) this.seen.set(pid, ticks - (this.baseline.get(pid) ?? 0));
  }
  /** pid → own utime+stime (ticks) for root and its descendants (walked through each task's children file in /proc). */
  private async tree(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    const todo = [this.root];
    while (todo.length) {
      const pid = todo.pop()!;
      const rest = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.split(' ');
      if (!rest) continue;
      out.set(pid, Number(rest[11]) + Number(rest[12]));
      for (const task of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
        const kids = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
        for (const k of kids.split(' ')) if (k.trim()) todo.push(Number(k));
      }
    }
    return out;
  }
}

async function procCpu(pid: number, withChildren: boolean): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // fields after "pid (comm) ": state=0, … utime=11, stime=12, cutime=13, cstime=14 (in clock ticks)
  const ticks = Number(stat[11]) + Number(stat[12]) + (withChildren ? Number(stat[13]) + Number(stat[14]) : 0);
  return ticks / 100;
}

async function procRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

async function randomFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  const chunk = randomBytes(MiB);
  for (let written = 0; written < size; written += MiB) {
    chunk.writeUInt32BE(written / MiB, 0);
    if (!out.write(chunk.subarray(0, Math.min(MiB, size - written)))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    out.end(() => resolve());
  });
}

function exec(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * MiB }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    child.stdin!.on('error', () => undefined); // the command may exit without reading its input
    child.stdin!.end(input ?? '');
  });
}

async function execOk(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await exec(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} failed (${r.code}): ${r.stderr.trim()}`);
  return r;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number) => Math.round(n);
const round2 = (n: number) => Math.round(n * 100) / 100;
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
