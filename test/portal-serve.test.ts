import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cli, freePort, startServe } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('portalserve');
});
afterAll(async () => db?.drop());

async function ports() {
  return { HTTP_PORT: String(await freePort()), SFTP_PORT: String(await freePort()), PORTAL_PORT: String(await freePort()) };
}

async function answers(url: string): Promise<number | 'refused'> {
  try {
    return (await fetch(url, { redirect: 'manual' })).status;
  } catch {
    return 'refused';
  }
}

/**
 * A login form posted over a raw socket with `Expect: 100-continue`, its body not yet sent: the
 * portal has the request in flight once it answers 100 Continue, which this waits for.
 */
async function loginHeld(port: string, contentLength: number) {
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  let received = '';
  const continued = new Promise<void>((resolve) =>
    socket.on('data', (d: Buffer) => {
      received += d.toString();
      if (received.includes('100 Continue')) resolve();
    }),
  );
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(`POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${contentLength}\r\nExpect: 100-continue\r\n\r\n`);
  await continued;
  return { socket, closed, received: () => received };
}

describe('serve and the portal', () => {
  it('--role portal serves the portal and no SFTP, and stops cleanly on SIGTERM', async () => {
    const p = await ports();
    const node = await startServe({ DATABASE_URL: db.url, FILUDVEKSLING_DATA: mkdtempSync(join(tmpdir(), 'fu-portal-serve-')), ...p }, ['--role', 'portal']);
    try {
      expect(await answers(`http://127.0.0.1:${p.PORTAL_PORT}/login`)).toBe(200);
      expect(await answers(`http://127.0.0.1:${p.PORTAL_PORT}/api/v1/openapi.json`)).toBe(200);
      expect(await answers(`http://127.0.0.1:${p.SFTP_PORT}/`)).toBe('refused');
    } finally {
      expect(await node.stop()).toBe(0);
    }
    expect(await answers(`http://127.0.0.1:${p.PORTAL_PORT}/login`)).toBe('refused');
  });

  it('a request whose body never comes is cut off after the drain timeout, not waited for', async () => {
    const p = await ports();
    const env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: mkdtempSync(join(tmpdir(), 'fu-portal-serve-')), FILUDVEKSLING_DRAIN_MS: '500', ...p };
    const node = await startServe(env, ['--role', 'portal']);
    // 3 bytes of the promised 100 follow, and no more: Node alone would hold such a request open for 5 minutes.
    const login = await loginHeld(p.PORTAL_PORT, 100);
    login.socket.write('abc');
    expect(await node.stop()).toBe(0);
    await login.closed;
    expect(node.output()).toContain('drain timeout: closing 1 portal connection(s) still open');
    expect(node.output()).not.toContain('did not stop within');
  });

  it('a request in flight is answered and its connection closed at once, without waiting out the drain timeout', async () => {
    const p = await ports();
    const env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: mkdtempSync(join(tmpdir(), 'fu-portal-serve-')), FILUDVEKSLING_DRAIN_MS: '20000', ...p };
    const node = await startServe(env, ['--role', 'portal']);
    const body = 'email=x%40example.dk&password=y';
    const login = await loginHeld(p.PORTAL_PORT, body.length);
    const stopped = node.stop();
    // The portal has stopped listening (it is closing) before the request's body comes.
    while ((await answers(`http://127.0.0.1:${p.PORTAL_PORT}/login`)) !== 'refused');
    login.socket.write(body);
    await login.closed;
    // Answered (HTTP/1.1 keep-alive, as any browser's), and then not held open until the drain timeout.
    expect(login.received()).toMatch(/\r\n\r\nHTTP\/1\.1 [0-9]{3} /);
    expect(await stopped).toBe(0);
    expect(node.output()).not.toContain('drain timeout: closing');
  });

  it("says where the portal is once ready, and, while there is no operator, how the first one gets in", async () => {
    const p = await ports();
    const env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: mkdtempSync(join(tmpdir(), 'fu-portal-serve-')), ...p };
    // The lines a person reads among the JSON logs (the notes on stderr).
    const notes = (output: string) => output.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
    const first = await startServe(env, ['--role', 'portal']);
    expect(await first.stop()).toBe(0);
    expect(notes(first.output())).toEqual(expect.arrayContaining([
      `the portal: http://127.0.0.1:${p.PORTAL_PORT}`,
      "nobody can log in to the portal yet: 'filudveksling user invite <e-mail> --role operator' prints the first operator's one-time link",
    ]));

    expect((await cli(['user', 'invite', 'drift@kombit.dk', '--role', 'operator'], { DATABASE_URL: db.url, PORTAL_PORT: p.PORTAL_PORT })).code).toBe(0);
    const again = await startServe(env, ['--role', 'portal']);
    expect(await again.stop()).toBe(0);
    expect(notes(again.output())).toContain(`the portal: http://127.0.0.1:${p.PORTAL_PORT}`);
    expect(again.output()).not.toContain('nobody can log in');
  });

  it('--role sftp and PORTAL_PORT=off run no portal', async () => {
    const p = await ports();
    const env = { DATABASE_URL: db.url, FILUDVEKSLING_DATA: mkdtempSync(join(tmpdir(), 'fu-portal-serve-')), ...p };
    const sftp = await startServe(env, ['--role', 'sftp']);
    try {
      expect(await answers(`http://127.0.0.1:${p.PORTAL_PORT}/login`)).toBe('refused');
    } finally {
      await sftp.stop();
    }
    const off = await startServe({ ...env, PORTAL_PORT: 'off' });
    try {
      expect(await answers(`http://127.0.0.1:${p.PORTAL_PORT}/login`)).toBe('refused');
    } finally {
      await off.stop();
    }
  });

  it('a bad portal setting stops with exit code 2 naming it', async () => {
    for (const [name, value, accepts] of [
      ['PORTAL_PORT', '80800', 'a TCP port 0–65535, or "off"'],
      ['PORTAL_PUBLIC_URL', 'portal.example.dk', 'an http:// or https:// address'],
      ['SMTP_URL', 'mail.example.dk:587', 'an smtp:// or smtps:// address'],
      ['NOTIFY_UNFETCHED_HOURS', '0', 'a whole number of hours'],
    ]) {
      const r = await cli(['user', 'list'], { DATABASE_URL: db.url, [name!]: value });
      expect({ name, code: r.code }).toEqual({ name, code: 2 });
      expect(r.stderr).toContain(`Bad value for ${name}: "${value}" — it accepts ${accepts}`);
    }
  });
});
