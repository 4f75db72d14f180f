import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { addSystem, connect, makeKey, p, refusal, SFTP_STATUS, startHarness, type Connected, type Harness, type TestKey } from './helpers/sftp-harness.js';

/**
 * Bad input ends the one session (or request) it came on; the server and the other sessions go on.
 */
const USER = 'afsender-a';
let h: Harness;
let key: TestKey;
let bystander: Connected;
let home: string;

beforeAll(async () => {
  h = await startHarness('sftpabuse', { stalledMs: 1500, maxHandlesPerSession: 1024 });
  key = await makeKey(h.keysDir, 'ed25519');
  await addSystem(h, USER, [key]);
  home = join(h.dataDir, 'homes', USER);
  await mkdir(join(home, 'IN'), { recursive: true });
  await writeFile(join(home, 'IN', 'big.bin'), Buffer.alloc(16 * 1024 * 1024, 7));
  bystander = await connect(h.port, USER, key.privateKey);
});
afterAll(async () => {
  bystander.end();
  await h.stop();
});

/** The bystander session still works. */
async function othersKeepGoing(): Promise<void> {
  expect(await p.realpath(bystander.sftp, '.')).toBe('/');
  const fresh = await connect(h.port, USER, key.privateKey);
  expect((await p.readdir(fresh.sftp, '/')).map((e) => e.filename).sort()).toEqual(['IN', 'OUT']);
  fresh.end();
}

// --- raw SFTP packets on a subsystem channel -----------------------------------------------------
const str = (s: string | Buffer) => {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
};
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const packet = (type: number, ...fields: Buffer[]) => {
  const body = Buffer.concat([Buffer.from([type]), ...fields]);
  return Buffer.concat([u32(body.length), body]);
};
const INIT = packet(1, u32(3));

function rawSftp(): Promise<{ client: ssh2.Client; channel: ClientChannel }> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.subsys('sftp', (err, channel) => (err ? reject(err) : resolve({ client, channel })));
    });
    client.connect({ host: '127.0.0.1', port: h.port, username: USER, privateKey: key.privateKey });
  });
}

function closed(channel: ClientChannel, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    channel.on('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Reads whole SFTP packets from a raw channel. */
function reader(channel: ClientChannel) {
  let buf = Buffer.alloc(0);
  const waiting: Array<(p: Buffer) => void> = [];
  const packets: Buffer[] = [];
  channel.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
      const pkt = buf.subarray(4, 4 + buf.readUInt32BE(0));
      buf = buf.subarray(4 + pkt.length);
      const w = waiting.shift();
      if (w) w(pkt);
      else packets.push(pkt);
    }
  });
  return () => new Promise<Buffer>((resolve) => (packets.length ? resolve(packets.shift()!) : waiting.push(resolve)));
}

describe('bad input', () => {
  it('closes a connection that sends garbage after the SSH version exchange', async () => {
    const socket = tcpConnect(h.port, '127.0.0.1');
    socket.resume();
    await new Promise((r) => socket.once('connect', r));
    socket.write('SSH-2.0-Garbage\r\n');
    socket.write(Buffer.alloc(4096, 0xa5));
    const gone = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 5000);
      socket.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    expect(gone).toBe(true);
    await othersKeepGoing();
  });

  it('ends the SFTP session that sends garbage, an unknown packet type or a packet before INIT', async () => {
    for (const bytes of [Buffer.from('hello, this is not sftp at all'), packet(0xee, u32(1)), packet(17 /* STAT */, u32(1), str('/'))]) {
      const { client, channel } = await rawSftp();
      channel.resume();
      channel.write(bytes);
      expect([bytes.subarray(0, 8).toString('hex'), await closed(channel, 5000)]).toEqual([bytes.subarray(0, 8).toString('hex'), true]);
      client.end();
    }
    await othersKeepGoing();
  });

  it('ends the SFTP session that announces an oversized packet', async () => {
    const { client, channel } = await rawSftp();
    const next = reader(channel);
    channel.write(INIT);
    const version = await next();
    expect(version[0]).toBe(2);
    channel.write(u32(64 * 1024 * 1024)); // a 64 MiB packet is announced; the limit is 256 KiB
    channel.write(Buffer.alloc(1024));
    expect(await closed(channel, 5000)).toBe(true);
    client.end();
    await othersKeepGoing();
  });

  it('caps SFTP channels per connection and refuses shell, exec and port forwarding', async () => {
    const s = await connect(h.port, USER, key.privateKey);
    const more = await Promise.allSettled(
      Array.from({ length: 12 }, () => new Promise<unknown>((res, rej) => s.client.sftp((e, sftp) => (e ? rej(e) : res(sftp))))),
    );
    expect(more.filter((r) => r.status === 'fulfilled')).toHaveLength(9); // 10 with the first one
    s.end();
    const t = await connect(h.port, USER, key.privateKey);
    const exec = await new Promise<Error | undefined>((res) => t.client.exec('id', (e, ch) => (e ? res(e) : (ch.on('close', () => res(undefined)), ch.resume()))));
    expect(exec).toBeInstanceOf(Error);
    const shell = await new Promise<Error | undefined>((res) => t.client.shell((e) => res(e ?? undefined)));
    expect(shell).toBeInstanceOf(Error);
    const fwd = await new Promise<Error | undefined>((res) => t.client.forwardOut('127.0.0.1', 1, '127.0.0.1', 5432, (e) => res(e ?? undefined)));
    expect(fwd).toBeInstanceOf(Error);
    t.end();
    await othersKeepGoing();
  });

  it('answers a handle it never issued with FAILURE and goes on', async () => {
    const s = await connect(h.port, USER, key.privateKey);
    for (const handle of [Buffer.from([0, 0, 0x30, 0x39]), Buffer.from('not-a-handle-at-all')]) {
      const r = await refusal(p.read(s.sftp, handle, 10, 0));
      expect(r.code).toBe(SFTP_STATUS.FAILURE);
      expect(r.message).toMatch(/Invalid handle/);
      expect((await refusal(p.close(s.sftp, handle))).message).toMatch(/Invalid handle/);
    }
    expect(await p.realpath(s.sftp, '.')).toBe('/');
    s.end();
  });

  it('answers extensions it refuses or does not know with a status', async () => {
    const { client, channel } = await rawSftp();
    const next = reader(channel);
    channel.write(INIT);
    await next();
    channel.write(packet(200, u32(7), str('hardlink@openssh.com'), str('/IN/big.bin'), str('/OUT/x')));
    const hl = await next();
    expect([hl[0], hl.readUInt32BE(1), hl.readUInt32BE(5)]).toEqual([101, 7, SFTP_STATUS.PERMISSION_DENIED]);
    expect(hl.subarray(13, 13 + hl.readUInt32BE(9)).toString()).toMatch(/links are not allowed/);
    channel.write(packet(200, u32(8), str('copy-data')));
    const cd = await next();
    expect([cd[0], cd.readUInt32BE(1), cd.readUInt32BE(5)]).toEqual([101, 8, SFTP_STATUS.OP_UNSUPPORTED]);
    client.end();
  });

  it('answers READ and WRITE at offset 2^64-1 with a clear status; the upload goes on', async () => {
    const { client, channel } = await rawSftp();
    const next = reader(channel);
    const MAX = Buffer.alloc(8, 0xff);
    const statusOf = (pkt: Buffer) => ({ type: pkt[0], id: pkt.readUInt32BE(1), code: pkt.readUInt32BE(5), message: pkt.subarray(13, 13 + pkt.readUInt32BE(9)).toString() });
    channel.write(INIT);
    await next();
    // OPEN (3) /IN/big.bin for reading, then READ (5) at the largest offset.
    channel.write(packet(3, u32(1), str('/IN/big.bin'), u32(0x01), u32(0)));
    const rh = await next();
    const readHandle = rh.subarray(9, 9 + rh.readUInt32BE(5));
    channel.write(packet(5, u32(2), str(readHandle), MAX, u32(1024)));
    expect(statusOf(await next())).toEqual({ type: 101, id: 2, code: SFTP_STATUS.FAILURE, message: expect.stringMatching(/beyond any file/) });
    // OPEN /OUT/offset.bin for writing (WRITE|CREAT|TRUNC), WRITE at the largest offset, then a good write and CLOSE.
    channel.write(packet(3, u32(3), str('/OUT/offset.bin'), u32(0x02 | 0x08 | 0x10), u32(0)));
    const wh = await next();
    const writeHandle = wh.subarray(9, 9 + wh.readUInt32BE(5));
    channel.write(packet(6, u32(4), str(writeHandle), MAX, str(Buffer.from('x'))));
    expect(statusOf(await next())).toEqual({ type: 101, id: 4, code: SFTP_STATUS.FAILURE, message: expect.stringMatching(/beyond any file/) });
    channel.write(packet(6, u32(5), str(writeHandle), u64(0), str(Buffer.from('fine'))));
    expect(statusOf(await next())).toMatchObject({ id: 5, code: 0 });
    channel.write(packet(4, u32(6), str(writeHandle)));
    expect(statusOf(await next())).toMatchObject({ id: 6, code: 0 });
    expect(await readFile(join(home, 'OUT', 'offset.bin'), 'utf8')).toBe('fine');
    client.end();
  });

  it('caps open handles per session (10,000 opens: 1024 succeed, the rest get a clear error)', async () => {
    const s = await connect(h.port, USER, key.privateKey);
    const results = await Promise.allSettled(Array.from({ length: 10_000 }, () => p.open(s.sftp, '/IN/big.bin', 'r')));
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Buffer>[];
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(1024);
    expect(failed[0]!.reason.message).toMatch(/Too many open handles \(1024\) in this session; close some/);
    await p.close(s.sftp, ok[0]!.value);
    const again = await p.open(s.sftp, '/IN/big.bin', 'r');
    expect(again).toBeInstanceOf(Buffer);
    s.end();
    await othersKeepGoing();
  });

  it('ends the session of a client that never reads its responses, with bounded buffering', async () => {
    const { client, channel } = await rawSftp();
    const next = reader(channel);
    channel.write(INIT);
    await next();
    channel.write(packet(3, u32(1), str('/IN/big.bin'), u32(1), u32(0)));
    const handlePkt = await next();
    const handle = handlePkt.subarray(9, 9 + handlePkt.readUInt32BE(5));
    // From now on the client reads nothing: its window closes, the server must hold back.
    channel.removeAllListeners('data');
    channel.pause();
    const reads: Buffer[] = [];
    for (let i = 0; i < 2000; i++) reads.push(packet(5, u32(100 + i), str(handle), u64((i * 255 * 1024) % (16 * 1024 * 1024)), u32(255 * 1024)));
    channel.write(Buffer.concat(reads));
    const rssBefore = process.memoryUsage().rss;
    const gone = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 10_000);
      client.on('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    expect(gone).toBe(true);
    // 2000 reads × 255 KiB would be ~500 MB if the server answered them all into memory.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    client.end();
    await othersKeepGoing();
  });
});
