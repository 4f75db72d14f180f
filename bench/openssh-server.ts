/**
 * OpenSSH's internal-sftp on a private sshd (its own config, host key and port on 127.0.0.1), the
 * reference the SFTP benchmark compares with. Needs root (sshd and the system user `fubench`) and
 * openssh-server.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { exec, execOk, freePort, sleep } from './bench-util.js';
import { leaveBehind } from './leftovers.js';

export const BENCH_USER = 'fubench';
const SSHD = '/usr/sbin/sshd';

export interface OpensshServer {
  port: number;
  pid: number;
  /** The session's folder (internal-sftp starts there); owned by the bench user. */
  home: string;
}

export async function startOpensshServer(work: string, publicKey: string): Promise<OpensshServer> {
  if (process.getuid?.() !== 0) throw new Error('The SFTP benchmark runs a private sshd (user fubench) to compare with: run it as root.');
  if (!existsSync(SSHD)) throw new Error(`The SFTP benchmark compares with OpenSSH's sftp-server: install openssh-server (${SSHD} is missing).`);
  const dir = join(work, 'sshd');
  await mkdir(dir);
  await mkdir('/run/sshd', { recursive: true });
  const home = join(work, 'openssh-home');
  await mkdir(home);
  // The bench user exists once on the machine (a system user with no password and no shell login).
  if ((await exec('id', [BENCH_USER])).code !== 0) await execOk('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', BENCH_USER]);
  await execOk('usermod', ['-p', '*', BENCH_USER]); // no password, but not "locked" (sshd without PAM refuses locked accounts)
  await execOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  await writeFile(join(dir, 'authorized_keys'), `${publicKey}\n`);
  await chmod(join(dir, 'authorized_keys'), 0o644);
  const port = await freePort();
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
  await execOk('chown', [`${BENCH_USER}:`, home]);
  const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'inherit'] });
  leaveBehind(`sshd (pid ${child.pid})`, async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
  for (let i = 0; !(await accepts(port)); i++) {
    if (i > 100 || child.exitCode !== null) throw new Error(`sshd did not start on port ${port} (exit ${child.exitCode})`);
    await sleep(50);
  }
  return { port, pid: child.pid!, home };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });
}
