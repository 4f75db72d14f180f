/**
 * OpenSSH's MaxStartups random early drop for unauthenticated connections (issue 12 item 8): a flood
 * of idle connections holds few slots, and other clients still get in.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { loadConfig } from '../src/config/config.js';
import { LoginGuard, DEFAULT_LOGIN_GUARD } from '../src/sftp/login-guard.js';
import { waitUntil } from './helpers/wait.js';
import { addSystem, makeKey, startHarness, tryLogin, type Harness } from './helpers/sftp-harness.js';

describe('the drop curve (start:rate:full = 10:30:100)', () => {
  function admittedWith(random: number): number {
    const guard = new LoginGuard({ ...DEFAULT_LOGIN_GUARD, random: () => random });
    let n = 0;
    while (n < 200 && guard.admit(`192.0.2.${n % 200}-${n}`).ok) n++;
    return n;
  }

  it('never drops below start, drops with a probability rising from rate at start to 100% at full', () => {
    expect(admittedWith(0)).toBe(10); // at start: 30% drop, and the draw is below it
    expect(admittedWith(0.29)).toBe(10);
    expect(admittedWith(0.31)).toBe(12); // a draw of 31: admitted at 10 (30%) and 11 (30.8%), dropped at 12 (31.6%)
    expect(admittedWith(0.5)).toBe(36); // 49.4% at 35, 50.1% at 36
    expect(admittedWith(0.999)).toBe(100); // never past full
  });

  it('names the drop in its reason', () => {
    const guard = new LoginGuard({ ...DEFAULT_LOGIN_GUARD, random: () => 0 });
    for (let i = 0; i < 10; i++) guard.admit(`198.51.100.${i}`);
    expect(guard.admit('203.0.113.1')).toEqual({ ok: false, reason: expect.stringMatching(/random early drop at 10 unauthenticated connections \(MaxStartups 10:30:100\)/) });
  });
});

describe('a flood of idle connections', () => {
  let h: Harness;
  let flooding = true;
  const flood: Socket[] = [];
  beforeAll(async () => {
    h = await startHarness('sftpstartups', {
      maxUnauthenticated: 20,
      maxUnauthenticatedPerAddress: 100,
      startupsStart: 5,
      startupsRate: 30,
      // The flood draws low (dropped whenever past start); the real client draws high.
      random: () => (flooding ? 0 : 0.999),
    });
  });
  afterAll(async () => {
    for (const s of flood) s.destroy();
    await h.stop();
  });

  it('holds only start slots, and a real client still logs in', async () => {
    const key = await makeKey(h.keysDir, 'ed25519');
    await addSystem(h, 'afsender-a', [key]);
    let closed = 0;
    for (let i = 0; i < 20; i++) {
      const s = tcpConnect(h.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => closed++);
      s.resume();
      await new Promise((resolve) => s.once('connect', resolve));
      flood.push(s);
    }
    await waitUntil('the dropped connections to close', () => closed === 15 || undefined);
    flooding = false;
    expect(await tryLogin(h.port, 'afsender-a', { privateKey: key.privateKey })).toBe('ok');
    expect(closed).toBe(15);
  });
});

describe('SFTP_MAX_STARTUPS', () => {
  it('reads start:rate:full as OpenSSH does; unset it is 10:30:<SFTP_MAX_UNAUTHENTICATED>', () => {
    expect(loadConfig({}).sftp).toMatchObject({ startupsStart: 10, startupsRate: 30, maxUnauthenticated: 100 });
    expect(loadConfig({ SFTP_MAX_UNAUTHENTICATED: '1000' }).sftp).toMatchObject({ startupsStart: 10, startupsRate: 30, maxUnauthenticated: 1000 });
    expect(loadConfig({ SFTP_MAX_STARTUPS: '1000:30:1000' }).sftp).toMatchObject({ startupsStart: 1000, startupsRate: 30, maxUnauthenticated: 1000 });
    expect(loadConfig({ SFTP_MAX_HANDLES_PER_SYSTEM: '64', SFTP_FD_RESERVE: '0' }).sftp).toMatchObject({ maxHandlesPerSystem: 64, descriptorReserve: 0 });
  });

  it.each([
    ['10:30', /SFTP_MAX_STARTUPS: "10:30" — it accepts start:rate:full/],
    ['10:130:100', /SFTP_MAX_STARTUPS: "10:130:100"/],
    ['200:30:100', /start \(200\) must not be above full \(100\)/],
  ])('refuses %s with a message naming the setting', (value, message) => {
    expect(() => loadConfig({ SFTP_MAX_STARTUPS: value })).toThrow(message);
  });
});
