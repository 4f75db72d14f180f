/**
 * An upload's writes are gathered into 1 MiB runs and written one run after another
 * (src/sftp/coalesced-writes.ts). What a client can observe must not change: pipelined writes land
 * in the order they were sent, everything written so far shows in STAT/FSTAT and reads back, and the
 * file arrives whole with its SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { uploadEvents, type UploadClosed } from '../src/sftp/upload-events.js';
import { addSystem, connect, makeKey, p, startHarness, type Connected, type Harness } from './helpers/sftp-harness.js';

const USER = 'afsender-a';
const KiB = 1024;
let h: Harness;
let c: Connected;
let out: string;

beforeAll(async () => {
  h = await startHarness('sftpcoalesce');
  const key = await makeKey(h.keysDir, 'ed25519');
  await addSystem(h, USER, [key]);
  c = await connect(h.port, USER, key.privateKey);
  out = join(h.dataDir, 'homes', USER, 'OUT');
});
afterAll(async () => {
  c.end();
  await h.stop();
});

function closedEvent(name: string): Promise<UploadClosed> {
  return new Promise((resolve) => {
    const on = (e: UploadClosed) => {
      if (e.name !== name) return;
      uploadEvents.off('closed', on);
      resolve(e);
    };
    uploadEvents.on('closed', on);
  });
}

it('lands pipelined writes at overlapping offsets in the order they were sent', async () => {
  const handle = await p.open(c.sftp, '/OUT/overlap.bin', 'w');
  // Each write one 32 KiB request, all sent without waiting for their replies: the file from 0 to
  // 1.5 MiB in 'a', then 'b' over 1 MiB to 2 MiB, then 'z' over the start and over 1.25 MiB.
  const plan: Array<[number, string]> = [];
  for (let at = 0; at < 1536 * KiB; at += 32 * KiB) plan.push([at, 'a']);
  for (let at = 1024 * KiB; at < 2048 * KiB; at += 32 * KiB) plan.push([at, 'b']);
  plan.push([0, 'z'], [1280 * KiB, 'z']);
  const expected = Buffer.alloc(2048 * KiB, 0);
  const writes: Array<Promise<void>> = [];
  for (const [at, fill] of plan) {
    const data = Buffer.alloc(32 * KiB, fill);
    data.copy(expected, at);
    writes.push(p.write(c.sftp, handle, data, at));
  }
  await Promise.all(writes);
  await p.close(c.sftp, handle);
  const got = await readFile(join(out, 'overlap.bin'));
  expect(got.length).toBe(expected.length);
  expect(got.equals(expected)).toBe(true);
});

it('counts every byte written so far in FSTAT and STAT of an upload in progress, and reads them back', async () => {
  const handle = await p.open(c.sftp, '/OUT/growing.bin', 'w+');
  const data = randomBytes(200 * KiB);
  for (let at = 0; at < data.length; at += 32 * KiB) await p.write(c.sftp, handle, data.subarray(at, at + 32 * KiB), at);
  expect((await p.fstat(c.sftp, handle)).size).toBe(200 * KiB);
  expect((await p.stat(c.sftp, '/OUT/growing.bin')).size).toBe(200 * KiB);
  expect((await p.read(c.sftp, handle, 1000, 150 * KiB)).equals(data.subarray(150 * KiB, 150 * KiB + 1000))).toBe(true);
  await p.close(c.sftp, handle);
});

it('receives a file written in pipelined 32 KiB writes (WinSCP, Paramiko) whole, with its SHA-256', async () => {
  const data = randomBytes(5 * 1024 * KiB + 123);
  const closed = closedEvent('pipelined.bin');
  const handle = await p.open(c.sftp, '/OUT/pipelined.bin', 'w');
  const writes: Array<Promise<void>> = [];
  for (let at = 0; at < data.length; at += 32 * KiB) writes.push(p.write(c.sftp, handle, data.subarray(at, at + 32 * KiB), at));
  await Promise.all(writes);
  await p.close(c.sftp, handle);
  const sha256 = createHash('sha256').update(data).digest('hex');
  expect((await closed).sha256).toBe(sha256);
  expect(createHash('sha256').update(await readFile(join(out, 'pipelined.bin'))).digest('hex')).toBe(sha256);
});
