import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
  subject: string;
  /** The body as the reader sees it (quoted-printable decoded). */
  text: string;
  /** The message came over TLS (STARTTLS or implicit). */
  secure: boolean;
}

export interface TestSmtp {
  url: string;
  /** With `tls`: the server's self-signed certificate (PEM), for the client to trust. */
  ca?: string;
  mails: ReceivedMail[];
  /** Answers 451 to the next n messages' RCPT TO (a server refusing for a while). */
  refuseNext(n: number): void;
  /** How many RCPT TO it refused so far. */
  refused(): number;
  close(): Promise<void>;
}

/**
 * A real SMTP server (smtp-server) on a free loopback port, keeping what it accepted. Plain by
 * default; `tls: 'starttls'` offers STARTTLS on smtp://, `'implicit'` speaks TLS from the start
 * (smtps://), both with a certificate made for the test.
 */
export async function startSmtp(o: { tls?: 'starttls' | 'implicit' } = {}): Promise<TestSmtp> {
  const cert = o.tls ? selfSignedCertificate() : undefined;
  const mails: ReceivedMail[] = [];
  let toRefuse = 0;
  let refusals = 0;
  const server = new SMTPServer({
    authOptional: true,
    ...(cert ? { key: cert.key, cert: cert.cert, secure: o.tls === 'implicit' } : { disabledCommands: ['STARTTLS'] }),
    logger: false,
    // Connections a test left mid-message (a node that died) end at close instead of after 30 s.
    closeTimeout: 50,
    onRcptTo(_address, _session, callback) {
      if (toRefuse > 0) {
        toRefuse -= 1;
        refusals += 1;
        const err = Object.assign(new Error('Try again later'), { responseCode: 451 });
        return callback(err);
      }
      callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const data = Buffer.concat(chunks).toString('utf8');
        const subject = decodeWords(/^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(data)?.[1] ?? '');
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          subject,
          text: bodyText(data),
          secure: session.secure,
        });
        callback();
      });
    },
  });
  // A client that gives up on the handshake (a certificate it does not trust) is the client's failure to report.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `${o.tls === 'implicit' ? 'smtps' : 'smtp'}://127.0.0.1:${port}`,
    ca: cert?.cert,
    mails,
    refuseNext(n) {
      toRefuse = n;
    },
    refused: () => refusals,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A self-signed certificate for 127.0.0.1 (openssl, as an operator would make one), valid a day. */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fu-smtp-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The body after the headers, quoted-printable decoded when it says so (nodemailer's choice for text with æ, ø, å). */
function bodyText(data: string): string {
  const split = data.indexOf('\r\n\r\n');
  const headers = data.slice(0, split);
  const body = data.slice(split + 4);
  if (!/^Content-Transfer-Encoding: quoted-printable/im.test(headers)) return body;
  const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_all, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** RFC 2047 encoded words (nodemailer encodes a subject with æ, ø, å so). */
function decodeWords(header: string): string {
  return header
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?([QB])\?(.*?)\?=/gi, (_all, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_h, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8'),
    );
}
