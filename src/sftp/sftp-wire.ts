import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Connection, SFTPWrapper } from 'ssh2';

/**
 * The few things ssh2 1.17's server does not expose, done on its internals in this one file and
 * nowhere else (test/sftp-files.test.ts, "offers statvfs, fsync and limits", test/sftp-abuse.test.ts
 * and test/sftp-login.test.ts fail if an ssh2 upgrade changes them):
 *
 * - VERSION with extensions: ssh2 answers INIT with a fixed VERSION packet that names no extension,
 *   so clients would never use posix-rename, statvfs, fsync or limits (OpenSSH's `sftp` then
 *   falls back to 32 KiB reads/writes). `advertiseExtensions` swaps that one packet for ours.
 * - EXTENDED_REPLY and zero-copy DATA: ssh2 has no method for the first and copies for the second;
 *   `sendPacket` queues a ready-made packet exactly as ssh2's private sendOrBuffer does (SSH window,
 *   then its `_buffer`).
 * - Backpressure: `_buffer` grows without bound when a client stops reading; `outgoingBacklog`
 *   measures it and `onOutgoingDrained` tells when the client's window opened again. Returning
 *   false from `push` makes ssh2 hold back the incoming window (`_waitChanDrain`); `resumeIncoming`
 *   opens it again, as ssh2's own streams do. `gateIncoming` installs that `push`.
 * - The connection's TCP socket (`socketOf`) and its KEXINIT offer (`dropSha1HostKeyAlgorithm`).
 */
const require = createRequire(import.meta.url);
const { windowAdjust, WINDOW_THRESHOLD } = require('ssh2/lib/Channel.js') as {
  windowAdjust(channel: unknown): void;
  WINDOW_THRESHOLD: number;
};

/** What we touch of ssh2's SFTP object. */
interface SftpInternals {
  _version: number;
  _buffer: Buffer[];
  _waitWindow: boolean;
  _waitChanDrain?: boolean;
  _chunkcb: (() => void) | undefined;
  _protocol: { channelData(id: number, data: Buffer): void };
  outgoing: { id: number; window: number; packetSize: number; state: string };
  incoming: { window: number };
  push(data: Buffer | null): unknown;
}

function internals(sftp: SFTPWrapper): SftpInternals {
  return sftp as unknown as SftpInternals;
}

/** What OpenSSH's sftp-server advertises too: 256 KiB packets, 255 KiB reads and writes. */
export const MAX_PACKET = 256 * 1024;
export const MAX_READ_WRITE = MAX_PACKET - 1024;

/** The TCP socket under an ssh2 server connection. */
export function socketOf(conn: Connection): Socket {
  return (conn as unknown as { _sock: Socket })._sock;
}

/**
 * Puts a gate in front of ssh2's SFTP parser: `hold(data)` returns true when it keeps the data for
 * later (ssh2 then holds back the client's window). Returns the way to hand held data on.
 */
export function gateIncoming(sftp: SFTPWrapper, hold: (data: Buffer) => boolean): (data: Buffer) => void {
  const s = internals(sftp);
  const inner = s.push;
  s.push = (data: Buffer | null) => {
    if (data !== null && hold(data)) return false;
    return inner.call(s, data);
  };
  return (data: Buffer) => void inner.call(s, data);
}

const RESPONSE_VERSION = 2;
const RESPONSE_EXTENDED_REPLY = 201;

/** Replaces ssh2's bare VERSION (v3, no extensions) by one that names `extensions`. */
export function advertiseExtensions(sftp: SFTPWrapper, extensions: Record<string, string>): void {
  const s = internals(sftp);
  const parts: Buffer[] = [Buffer.from([0, 0, 0, 0, RESPONSE_VERSION, 0, 0, 0, 3])];
  for (const [name, data] of Object.entries(extensions)) parts.push(sshString(name), sshString(data));
  const version = Buffer.concat(parts);
  version.writeUInt32BE(version.length - 4, 0);

  const realProtocol = s._protocol;
  const inner = s.push;
  let done = false;
  // Stays installed (a pass-through after INIT), so wrappers installed later keep working.
  s.push = function pushUntilVersion(this: SftpInternals, data: Buffer | null) {
    if (done || data === null || s._version !== -1) {
      done = true;
      return inner.call(this, data);
    }
    // Only while ssh2 handles INIT: its VERSION packet is 9 bytes, type 2.
    s._protocol = Object.create(realProtocol, {
      channelData: {
        value(id: number, payload: Buffer) {
          if (payload.length === 9 && payload[4] === RESPONSE_VERSION) {
            s._protocol = realProtocol;
            s.outgoing.window += payload.length - version.length; // account for ours instead
            return realProtocol.channelData(id, version);
          }
          return realProtocol.channelData(id, payload);
        },
      },
    });
    try {
      return inner.call(this, data);
    } finally {
      s._protocol = realProtocol;
      if (s._version !== -1) done = true;
    }
  };
}

/** Sends a complete SFTP packet (length prefix included), in order with ssh2's own responses. */
export function sendPacket(sftp: SFTPWrapper, packet: Buffer): void {
  const s = internals(sftp);
  if (s._buffer.length > 0 || s._waitWindow) {
    if (s.outgoing.state === 'open') s._buffer.push(packet);
    return;
  }
  const rest = tryWrite(s, packet);
  if (rest !== undefined) s._buffer.push(rest);
}

function tryWrite(s: SftpInternals, payload: Buffer): Buffer | undefined {
  const outgoing = s.outgoing;
  if (outgoing.state !== 'open') return undefined;
  if (outgoing.window === 0) {
    s._waitWindow = true;
    s._chunkcb = drain;
    return payload;
  }
  let p = 0;
  const len = payload.length;
  while (len - p > 0 && outgoing.window > 0) {
    const n = Math.min(len - p, outgoing.window, outgoing.packetSize);
    outgoing.window -= n;
    if (outgoing.window === 0) {
      s._waitWindow = true;
      s._chunkcb = drain;
    }
    s._protocol.channelData(outgoing.id, p === 0 && n === len ? payload : payload.subarray(p, p + n));
    p += n;
  }
  return p < len ? payload.subarray(p) : undefined;
}

/** Same as ssh2's drainBuffer: called with `this` = the SFTP object when the window opens. */
function drain(this: SftpInternals): void {
  this._chunkcb = undefined;
  const buffer = this._buffer;
  let i = 0;
  while (i < buffer.length) {
    const payload = buffer[i]!;
    const rest = tryWrite(this, payload);
    if (rest !== undefined) {
      buffer[i] = rest;
      if (i > 0) this._buffer = buffer.slice(i);
      return;
    }
    ++i;
  }
  if (i > 0) this._buffer = [];
}

/** Bytes of responses waiting for the client to open its window. */
export function outgoingBacklog(sftp: SFTPWrapper): number {
  let n = 0;
  for (const b of internals(sftp)._buffer) n += b.length;
  return n;
}

/** Calls `fn` after ssh2 has sent what the client's window allowed, each time the window opens. */
export function onOutgoingDrained(sftp: SFTPWrapper, fn: () => void): void {
  const s = internals(sftp);
  let stored = s._chunkcb;
  const wrapper = function (this: SftpInternals) {
    const f = stored;
    f?.call(s);
    fn();
  };
  Object.defineProperty(s, '_chunkcb', {
    configurable: true,
    get: () => (stored ? wrapper : undefined),
    set: (v: (() => void) | undefined) => {
      stored = v;
    },
  });
}

/** Opens the incoming window again after `push` returned false. */
export function resumeIncoming(sftp: SFTPWrapper): void {
  const s = internals(sftp);
  if (!s._waitChanDrain) return;
  s._waitChanDrain = false;
  if (s.incoming.window <= WINDOW_THRESHOLD) windowAdjust(s);
}

/** An EXTENDED_REPLY packet with the given body. */
export function extendedReply(reqid: number, body: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(9 + body.length);
  buf.writeUInt32BE(5 + body.length, 0);
  buf[4] = RESPONSE_EXTENDED_REPLY;
  buf.writeUInt32BE(reqid, 5);
  body.copy(buf, 9);
  return buf;
}

/** A DATA packet laid out around a read buffer: read into `packet.subarray(DATA_HEADER)`, then `finishData`. */
export const DATA_HEADER = 13;
export function finishData(packet: Buffer, reqid: number, dataLen: number): Buffer {
  packet.writeUInt32BE(9 + dataLen, 0);
  packet[4] = 103; // SSH_FXP_DATA
  packet.writeUInt32BE(reqid, 5);
  packet.writeUInt32BE(dataLen, 9);
  return packet.subarray(0, DATA_HEADER + dataLen);
}

export function sshString(value: string | Buffer): Buffer {
  const body = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const buf = Buffer.allocUnsafe(4 + body.length);
  buf.writeUInt32BE(body.length, 0);
  body.copy(buf, 4);
  return buf;
}

export function uint64(value: number | bigint): Buffer {
  const buf = Buffer.allocUnsafe(8);
  buf.writeBigUInt64BE(BigInt(value), 0);
  return buf;
}

/** Reads SSH strings from an EXTENDED request's data; undefined when it is malformed. */
export function readStrings(data: Buffer | undefined, count: number): Buffer[] | undefined {
  if (!data) return undefined;
  const out: Buffer[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 4 > data.length) return undefined;
    const len = data.readUInt32BE(p);
    p += 4;
    if (p + len > data.length) return undefined;
    out.push(data.subarray(p, p + len));
    p += len;
  }
  return out;
}

/**
 * Whether ssh2's native crypto addon (sshcrypto.node: AES-GCM, ChaCha20-Poly1305 in C) loaded.
 * Without it ssh2 falls back to much slower JavaScript paths.
 */
export function nativeCryptoLoaded(): boolean {
  return (require('ssh2/lib/protocol/crypto.js') as { bindingAvailable: boolean }).bindingAvailable;
}

interface KexEntry {
  array: string[];
}
interface KexOffer {
  lists: {
    kex: KexEntry;
    serverHostKey: KexEntry;
    cs: { cipher: KexEntry; mac: KexEntry; compress: KexEntry; lang: KexEntry };
    sc: { cipher: KexEntry; mac: KexEntry; compress: KexEntry; lang: KexEntry };
  };
}
const { KexInit } = require('ssh2/lib/protocol/kex.js') as { KexInit: new (o: object) => KexOffer };
const offers = new WeakMap<KexOffer, KexOffer>();

/**
 * ssh2 always offers `ssh-rsa` (RSA host key signed with SHA-1) for an RSA host key, whatever the
 * configured list says. Called from the server's 'connection' event — after the client's version
 * line, before ssh2 sends its KEXINIT — this swaps the connection's offer for the same one without
 * `ssh-rsa` (test/sftp-login.test.ts checks the offer).
 */
export function dropSha1HostKeyAlgorithm(connection: unknown): void {
  const protocol = (connection as { _protocol?: { _offer?: KexOffer } })._protocol;
  const offer = protocol?._offer;
  if (!protocol || !offer?.lists?.serverHostKey) return;
  let ours = offers.get(offer);
  if (!ours) {
    const l = offer.lists;
    const side = (x: KexOffer['lists']['cs']) => ({ cipher: x.cipher.array, mac: x.mac.array, compress: x.compress.array, lang: x.lang.array });
    ours = new KexInit({
      kex: l.kex.array,
      serverHostKey: l.serverHostKey.array.filter((a) => a !== 'ssh-rsa'),
      cs: side(l.cs),
      sc: side(l.sc),
    });
    offers.set(offer, ours);
    offers.set(ours, ours);
  }
  protocol._offer = ours;
}
