import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildTrigger } from '../src/triggers/build-xml.js';
import { type TestSystem } from './helpers/factories.js';
import { routed, AARHUS, createWorld, inbox, listTree, makeTrigger, out, receiptOutcome, schemaErrors, sha256, xmlValue, type Backend, type World } from './helpers/router-world.js';
import { waitUntil } from './helpers/wait.js';
import { connect, p, type Connected } from './helpers/sftp-harness.js';

/** The whole journey over real SFTP clients: ssh2's client and Paramiko (what KOMBIT client libraries use). */
async function upload(c: Connected, path: string, data: Buffer | string): Promise<void> {
  const h = await p.open(c.sftp, path, 'w');
  await p.write(c.sftp, h, Buffer.from(data), 0);
  await p.close(c.sftp, h);
}

async function download(c: Connected, path: string): Promise<Buffer> {
  const st = await p.stat(c.sftp, path);
  const h = await p.open(c.sftp, path, 'r');
  const chunks: Buffer[] = [];
  for (let pos = 0; pos < st.size; ) {
    const b = await p.read(c.sftp, h, Math.min(32_768, st.size - pos), pos);
    if (b.length === 0) break;
    chunks.push(b);
    pos += b.length;
  }
  await p.close(c.sftp, h);
  return Buffer.concat(chunks);
}

const readdir = (c: Connected, path: string) =>
  new Promise<string[]>((res, rej) => c.sftp.readdir(path, (e, list) => (e ? rej(e) : res(list.map((l) => l.filename).sort()))));

describe.each<Backend>(['postgres', 'redis'])('over SFTP (queue on %s)', (backend) => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld(`sftp${backend.slice(0, 2)}`, backend);
    await w.start();
  }, 120_000);
  afterAll(async () => w?.close());

  it('a sender uploads file and trigger with ssh2; the recipient downloads file and metadata; the sender its receipt', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const content = Buffer.from('cpr;navn\n0101011234;Test Testesen\n'.repeat(100));
    const trigger = makeTrigger({ sender, infref, sha256: sha256(content) }, 'borgere.csv', content);
    const s = await connect(Number(w.env.SFTP_PORT), sender.username, sender.privateKey);
    try {
      await upload(s, '/OUT/borgere.csv', content);
      await upload(s, '/OUT/borgere.csv.trigger', buildTrigger(trigger));
      // Paramiko-style check right after the upload: the trigger can still be STATed though routing took it.
      expect((await p.stat(s.sftp, '/OUT/borgere.csv.trigger')).size).toBeGreaterThan(0);
      const receipt = await waitUntil('the receipt over SFTP', async () => {
        try {
          return (await download(s, '/IN/borgere.csv.sftpreceipt')).toString('utf8');
        } catch {
          return undefined;
        }
      });
      expect(receiptOutcome(receipt)).toBe('SUCCESS');
      expect(await schemaErrors(receipt)).toBe('');
    } finally {
      s.end();
    }
    const r = await connect(Number(w.env.SFTP_PORT), recipient.username, recipient.privateKey);
    try {
      expect(await readdir(r, `/IN/${AARHUS.kommunekode}`)).toEqual(['borgere.csv', 'borgere.csv.metadata']);
      expect(sha256(await download(r, `/IN/${AARHUS.kommunekode}/borgere.csv`))).toBe(sha256(content));
      const metadata = (await download(r, `/IN/${AARHUS.kommunekode}/borgere.csv.metadata`)).toString('utf8');
      expect(await schemaErrors(metadata)).toBe('');
      expect(xmlValue(metadata, 'fu:Sha256')).toBe(sha256(content));
    } finally {
      r.end();
    }
    // The upload's own hash was used: the file was not read a second time.
    const { rows } = await w.db.pool.query(`SELECT detail FROM transfer_steps s JOIN transfers t ON t.id = s.transfer_id WHERE t.file_name = 'borgere.csv' AND s.step = 'hashed'`);
    expect(rows[0].detail.reusedUploadHash).toBe(true);
  });

  it('takes a trigger that arrives by RENAME (WinSCP uploads x.trigger.filepart, then renames it)', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, { dataDir: w.dataDir });
    const content = Buffer.from('winscp style\n');
    const s = await connect(Number(w.env.SFTP_PORT), sender.username, sender.privateKey);
    try {
      await upload(s, '/OUT/winscp.csv.filepart', content);
      await p.rename(s.sftp, '/OUT/winscp.csv.filepart', '/OUT/winscp.csv');
      await upload(s, '/OUT/winscp.csv.trigger.filepart', buildTrigger(makeTrigger({ sender, infref }, 'winscp.csv', content)));
      await p.rename(s.sftp, '/OUT/winscp.csv.trigger.filepart', '/OUT/winscp.csv.trigger');
      const receipt = await waitUntil('the receipt', async () => {
        try {
          return (await download(s, '/IN/winscp.csv.sftpreceipt')).toString('utf8');
        } catch {
          return undefined;
        }
      });
      expect(receiptOutcome(receipt)).toBe('SUCCESS');
    } finally {
      s.end();
    }
    expect(await listTree(inbox(w, recipient.username))).toEqual([`${AARHUS.kommunekode}/winscp.csv`, `${AARHUS.kommunekode}/winscp.csv.metadata`]);
    // The hash of the upload followed the file through its rename.
    const { rows } = await w.db.pool.query(`SELECT detail FROM transfer_steps s JOIN transfers t ON t.id = s.transfer_id WHERE t.file_name = 'winscp.csv' AND s.step = 'hashed'`);
    expect(rows[0].detail.reusedUploadHash).toBe(true);
  });

  it('Paramiko sends with put() and receives with get()', async () => {
    const { sender, recipient, infref } = await routed(w.db.pool, {
      dataDir: w.dataDir,
      senderOpts: { keyType: 'rsa' },
      recipientOpts: { keyType: 'rsa', inbox: 'flat' },
    });
    const work = w.dataDir;
    const keyFile = async (s: TestSystem) => {
      const path = join(work, `${s.username}.key`);
      await writeFile(path, s.privateKey);
      await chmod(path, 0o600);
      return path;
    };
    const content = Buffer.from('paramiko payload\n'.repeat(500));
    await writeFile(join(work, 'paramiko.csv'), content);
    await writeFile(join(work, 'paramiko.csv.trigger'), buildTrigger(makeTrigger({ sender, infref }, 'paramiko.csv', content)));
    const script = `
import sys, time, paramiko
port, sender, skey, recipient, rkey, work = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
def session(user, key):
    t = paramiko.Transport(('127.0.0.1', int(port)))
    t.connect(username=user, pkey=paramiko.RSAKey.from_private_key_file(key))
    return t, paramiko.SFTPClient.from_transport(t)
t, s = session(sender, skey)
s.put(work + '/paramiko.csv', '/OUT/paramiko.csv')            # put() STATs the file after closing it
s.put(work + '/paramiko.csv.trigger', '/OUT/paramiko.csv.trigger')
for _ in range(300):
    try:
        s.stat('/IN/paramiko.csv.sftpreceipt'); break
    except IOError:
        time.sleep(0.05)
s.get('/IN/paramiko.csv.sftpreceipt', work + '/got.sftpreceipt')
t.close()
t, r = session(recipient, rkey)
print(' '.join(sorted(r.listdir('/IN'))))
r.get('/IN/paramiko.csv', work + '/got.csv')
r.get('/IN/paramiko.csv.metadata', work + '/got.metadata')
t.close()
`;
    const [skey, rkey] = [await keyFile(sender), await keyFile(recipient)];
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        '/usr/bin/python3',
        ['-c', script, w.env.SFTP_PORT!, sender.username, skey, recipient.username, rkey, work],
        { timeout: 60_000 },
        (err, so, se) => (err ? reject(new Error(`${err.message}\n${se}`)) : resolve(so)),
      ),
    );
    expect(stdout.trim()).toBe('paramiko.csv paramiko.csv.metadata');
    const { readFile } = await import('node:fs/promises');
    expect(receiptOutcome(await readFile(join(work, 'got.sftpreceipt'), 'utf8'))).toBe('SUCCESS');
    expect(sha256(await readFile(join(work, 'got.csv')))).toBe(sha256(content));
    expect(xmlValue(await readFile(join(work, 'got.metadata'), 'utf8'), 'Recipients')).toBe(recipient.username);
    expect(await listTree(out(w, sender.username))).toEqual([]);
    expect(await listTree(inbox(w, recipient.username))).toEqual(['paramiko.csv', 'paramiko.csv.metadata']);
  });
});
