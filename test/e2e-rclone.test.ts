import { execFile } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildTrigger } from '../src/triggers/build-xml.js';
import { routed, createWorld, inbox, makeTrigger, receiptOutcome, waitForFile, type World } from './helpers/router-world.js';

/**
 * Issue 12 item 11: rclone (Go's pkg/sftp, as many Go tools) sets each file's times right after
 * uploading it, as WinSCP does by default. The job queued when the trigger's upload closed named the
 * file as it was before; the SETSTAT must not leave the trigger waiting for the next OUT rescan.
 */
describe('rclone as the client', () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld('rclone');
    await w.start();
  }, 120_000);
  afterAll(async () => w?.close());

  function rclone(args: string[], env: Record<string, string>): Promise<void> {
    return new Promise((resolve, reject) =>
      execFile('rclone', args, { env: { PATH: process.env.PATH, HOME: w.dataDir, ...env } }, (err, _out, stderr) => (err ? reject(new Error(`rclone ${args.join(' ')}: ${stderr}`)) : resolve())),
    );
  }

  it('routes a trigger uploaded with rclone copyto at once (its receipt within a second)', async () => {
    const { sender, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const local = join(w.dataDir, 'rclone-local');
    await mkdir(local, { recursive: true });
    const key = join(local, 'id');
    await writeFile(key, sender.privateKey);
    await chmod(key, 0o600);
    const env = {
      RCLONE_CONFIG: join(local, 'rclone.conf'),
      RCLONE_CONFIG_FU_TYPE: 'sftp',
      RCLONE_CONFIG_FU_HOST: '127.0.0.1',
      RCLONE_CONFIG_FU_PORT: w.env.SFTP_PORT!,
      RCLONE_CONFIG_FU_USER: sender.username,
      RCLONE_CONFIG_FU_KEY_FILE: key,
      RCLONE_CONFIG_FU_SHELL_TYPE: 'none',
      RCLONE_CONFIG_FU_DISABLE_HASHCHECK: 'true',
    };
    const content = Buffer.from('cpr;navn\n'.repeat(50));
    await writeFile(join(local, 'borgere.csv'), content);
    await writeFile(join(local, 'borgere.csv.trigger'), buildTrigger(makeTrigger({ sender, infref }, 'borgere.csv', content)));
    await rclone(['copyto', join(local, 'borgere.csv'), 'fu:OUT/borgere.csv'], env);
    await rclone(['copyto', join(local, 'borgere.csv.trigger'), 'fu:OUT/borgere.csv.trigger'], env);
    const uploaded = Date.now();
    const receipt = await waitForFile(inbox(w, sender.username, 'borgere.csv.sftpreceipt'), 10_000);
    const ms = Date.now() - uploaded;
    expect(receiptOutcome(receipt)).toBe('SUCCESS');
    expect(ms).toBeLessThan(1000);
  });
});
