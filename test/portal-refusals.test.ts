/**
 * Domain refusals the portal reaches are said from the catalogue (refusals.ts): on a page in the
 * person's language, above the form that still holds what was typed; in the API as problem+json
 * whose `code` names the refusal and whose `detail` is the catalogue's English — never the CLI's
 * commands, never a Danish line with the English beside it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDocument } from '../src/infref/declaration-document.js';
import { formatsFor } from '../src/portal/formats.js';
import { da } from '../src/portal/i18n/da.js';
import { en } from '../src/portal/i18n/en.js';
import { refusalText } from '../src/portal/refusals.js';
import { MULTIPART_BODY_LIMIT } from '../src/portal/security.js';
import { addOtherAuthority, addRoute, issueInfRef, registerSystem, type TestSystem } from './helpers/factories.js';
import { addPerson, apiToken, startPortalWithInfRef, type PortalClient, type TestPortal, type TestPerson } from './helpers/portal.js';

let portal: TestPortal;
let operator: TestPerson;
let operatorEn: TestPerson;
let vendorAdmin: TestPerson;
let sender: TestSystem;
let recipient: TestSystem;
let infref: string;

beforeAll(async () => {
  ({ portal, owner: sender, infref } = await startPortalWithInfRef({ username: 'afsender-r', vendor: 'Leverandør R', approve: true }));
  recipient = await registerSystem(portal.pool, { username: 'modtager-r', vendor: 'Leverandør R', dataDir: portal.config.dataDir });
  await addRoute(portal.pool, { sender: sender.username, infref, recipient: recipient.username, authority: '0751' });
  operator = await addPerson(portal.pool, { role: 'operator' });
  operatorEn = await addPerson(portal.pool, { role: 'operator', language: 'en' });
  vendorAdmin = await addPerson(portal.pool, { role: 'vendor-admin', vendorId: sender.vendorId });
}, 60_000);
afterAll(async () => portal?.close());

/** The page's refusal (role="alert") as text, and the value of each named field of the form. */
function shown(html: string): { alert: string; lang: boolean } {
  const alert = /<div class="flash flash-problem" role="alert">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
  return { alert: alert.replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim(), lang: /lang="en"/.test(alert) };
}
const valueOf = (html: string, name: string) => new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(html)?.[1];

async function post(c: PortalClient, path: string, fields: Record<string, string>, from = path): Promise<{ status: number; html: string }> {
  const res = await c.submit(path, fields, { from });
  return { status: res.status, html: await res.text() };
}

describe('route add, authority add and vendor add on the operator\'s pages', () => {
  it('says each refusal of a route in Danish, naming the value, and keeps what was typed', async () => {
    const c = await portal.login(operator);
    const route = { sender: 'ukendt-system', infref, recipient: recipient.username, authority: '0751', validFrom: '', validTo: '' };
    const cases: Array<[Record<string, string>, number, string]> = [
      [{}, 409, 'Der findes intet it-system med brugernavnet «ukendt-system». Kontrollér navnet under It-systemer.'],
      [{ sender: sender.username, authority: '0999' }, 409, 'Ingen kommune har kommunekoden 0999. Se Myndigheder for dem, der findes.'],
      [{ sender: sender.username, authority: '12345678' }, 400, '«12345678» er ikke et gyldigt CVR-nummer (kontrolcifferet passer ikke); kontrollér cifrene i CVR-registeret.'],
      [{ sender: sender.username, infref: 'GDPR1' }, 400, '«GDPR1» er ikke en InfRef; skriv den som FagsystemdefineredeDataRefGDPR<nummer>_<version>, f.eks. FagsystemdefineredeDataRefGDPR12_1.'],
      [{ sender: sender.username, infref: 'FagsystemdefineredeDataRefGDPR999_1' }, 409, 'InfRef FagsystemdefineredeDataRefGDPR999_1 findes ikke: ingen InfRef har nummer 999. Se InfRefs for dem, der findes.'],
      [{ sender: recipient.username }, 409, `${infref} tilhører it-systemet ${sender.username}, ikke afsenderen ${recipient.username}: en rute kan kun bære afsenderens egen InfRef.`],
      [{ sender: sender.username, validFrom: '2026-02-30' }, 400, '«2026-02-30» er ikke en dato i kalenderen; skriv en dato, der findes, som ÅÅÅÅ-MM-DD, f.eks. 2026-12-31.'],
      [{ sender: sender.username, validFrom: '2026-12-01', validTo: '2026-11-01' }, 409, 'Ruten slutter (2026-11-01), før den begynder (2026-12-01); vælg en slutdato på eller efter startdatoen.'],
      [{ sender: sender.username }, 409, `Rute 1 fører allerede InfRef ${infref.replace(/^\D+(\d+)_.*$/, '$1')} fra ${sender.username} til ${recipient.username} for 0751 Aarhus i en periode, der overlapper. Fjern den først, eller vælg en periode, der ikke overlapper.`],
    ];
    for (const [change, status, text] of cases) {
      const fields = { ...route, ...change };
      const res = await post(c, '/routes', fields);
      expect([fields, res.status, shown(res.html)]).toEqual([fields, status, { alert: text, lang: false }]);
      for (const name of ['sender', 'infref', 'recipient', 'authority', 'validFrom']) expect([name, valueOf(res.html, name)]).toEqual([name, fields[name as keyof typeof fields]]);
      expect(res.html).not.toContain('filudveksling ');
    }
    expect((await portal.pool.query('SELECT count(*)::int AS n FROM routes')).rows[0].n).toBe(1);
  });

  it('says the refusals of an authority and a vendor in Danish, and in English to a person who chose English', async () => {
    await addOtherAuthority(portal.pool, '10000009', 'Region R', 'region-r');
    const c = await portal.login(operator);
    const authority = { cvr: '10000017', name: 'Styrelse', folder: 'region-r' };
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ cvr: '1234' }, 400, '«1234» er ikke 8 cifre; skriv myndighedens CVR-nummer, f.eks. 55133018.'],
      [{ cvr: '55133018' }, 409, 'CVR-nummeret 55133018 er allerede oprettet som 0751 Aarhus.'],
      [{}, 409, 'Mappen «region-r» bruges allerede af Region R (CVR 10000009); vælg en anden mappe.'],
      [{ folder: '.skjult' }, 400, '«.skjult» kan ikke bruges som mappenavn: brug bogstaver, tal, «-» og «_», ikke «.» først og højst 255 bytes. Lad feltet stå tomt for at bruge CVR-nummeret.'],
    ];
    for (const [change, status, text] of cases) {
      const fields = { ...authority, ...change };
      const res = await post(c, '/authorities', fields);
      expect([fields, res.status, shown(res.html)]).toEqual([fields, status, { alert: text, lang: false }]);
      for (const name of ['cvr', 'name', 'folder']) expect([name, valueOf(res.html, name)]).toEqual([name, fields[name as keyof typeof fields]]);
    }
    const vendor = await post(c, '/vendors', { name: 'Ny leverandør', cvr: '12345678' });
    expect([vendor.status, shown(vendor.html)]).toEqual([400, { alert: '«12345678» er ikke et gyldigt CVR-nummer; skriv leverandørens CVR-nummer med 8 cifre, eller lad feltet stå tomt.', lang: false }]);
    expect(valueOf(vendor.html, 'name')).toBe('Ny leverandør');

    const english = await post(await portal.login(operatorEn), '/routes', { sender: 'ukendt-system', infref, recipient: recipient.username, authority: '0751' });
    expect([english.status, shown(english.html)]).toEqual([409, { alert: 'No IT system has the user name «ukendt-system». Check the name under IT systems.', lang: false }]);
  });
});

describe('the forms take what the domain takes', () => {
  it('an authority\'s folder may be as long as a folder name (255), not the 64 characters the form used to allow', async () => {
    const c = await portal.login(operator);
    const long = 'mappe-'.padEnd(200, 'x');
    const made = await c.submit('/authorities', { cvr: '10000025', name: 'Lang mappe', folder: long }, { from: '/authorities' });
    expect(made.status).toBe(303);
    expect((await portal.pool.query('SELECT folder FROM authorities WHERE cvr = $1', ['10000025'])).rows).toEqual([{ folder: long }]);
    const tooLong = await post(c, '/authorities', { cvr: '10000033', name: 'For lang mappe', folder: 'm'.repeat(256) });
    expect([tooLong.status, shown(tooLong.html)]).toEqual([400, { alert: '«Mappe» må højst have 255 tegn; der står 256.', lang: false }]);
  });
});

describe('declaration decide (approve and reject) on the InfRef page', () => {
  it('says a decision the declaration\'s state refuses in Danish, naming the InfRef', async () => {
    const c = await portal.login(operator);
    const none = (await issueInfRef(portal.pool, sender.username)).name;
    const rejected = (await issueInfRef(portal.pool, sender.username, { declaration: 'rejected' })).name;
    const cases: Array<[string, string, Record<string, string>, string]> = [
      [infref, 'approve', {}, `GDPR-erklæringen for ${infref} er allerede godkendt; der er intet at gøre.`],
      [infref, 'reject', { reason: 'Mangler underskrift' }, `GDPR-erklæringen for ${infref} er allerede godkendt og kan ikke afvises nu. Skal InfRef'en ikke længere bære data, så tilbagekald den.`],
      [none, 'approve', {}, `Der er ikke modtaget nogen GDPR-erklæring for ${none}; den skal indsendes, før den kan behandles.`],
      [rejected, 'reject', { reason: 'Igen' }, `GDPR-erklæringen for ${rejected} er afvist og kan ikke behandles igen. Afsenderen indsender en rettet erklæring, som så kan behandles.`],
    ];
    for (const [name, decision, fields, text] of cases) {
      const res = await post(c, `/infrefs/${name}/declaration/${decision}`, fields, `/infrefs/${name}`);
      expect([name, decision, res.status, shown(res.html)]).toEqual([name, decision, 409, { alert: text, lang: false }]);
      expect(res.html).not.toContain('filudveksling ');
    }
  });
});

describe('a file over the 20 MiB upload limit', () => {
  /** 20 MiB and 1 byte: the upload limit cuts it before the domain sees it, so its size is never known. */
  const OVER = 20 * 1024 * 1024 + 1;
  /** A name a browser may send: it is user input, and the page must escape it. */
  const fileName = 'erklæring <endelig> & rettet.pdf';

  /** Posts the form as the InfRef page's browser would: the page's CSRF token, then the file. */
  async function upload(c: PortalClient, path: string, from: string, fields: Record<string, string>, file: { field: string; name: string; size: number }): Promise<{ status: number; html: string }> {
    await c.get(from);
    const form = new FormData();
    form.append('_csrf', c.csrf);
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append(file.field, new Blob([Buffer.alloc(file.size, 0x25)], { type: 'application/pdf' }), file.name);
    const res = await c.fetch(path, { method: 'POST', body: form });
    return { status: res.status, html: await res.text() };
  }

  /** What the database holds of an InfRef's declaration: its row, its documents, its audit rows. */
  async function stored(name: string): Promise<Record<string, number>> {
    const { rows } = await portal.pool.query(
      `SELECT (SELECT count(*)::int FROM gdpr_declarations g JOIN infrefs i ON i.id = g.infref_id WHERE i.number = $1 AND i.version = $2) AS declarations,
              (SELECT count(*)::int FROM declaration_documents d JOIN infrefs i ON i.id = d.infref_id WHERE i.number = $1 AND i.version = $2) AS documents,
              (SELECT count(*)::int FROM audit_log WHERE entity_id = $3 AND action LIKE 'declaration.%') AS audited`,
      [Number(/GDPR(\d+)_/.exec(name)![1]), Number(/_(\d+)$/.exec(name)![1]), name],
    );
    return rows[0];
  }

  it('is refused on the InfRef page (413) naming the file and the limit, in Danish and in English, and nothing is stored', async () => {
    const vendorAdminEn = await addPerson(portal.pool, { role: 'vendor-admin', vendorId: sender.vendorId, language: 'en' });
    const name = (await issueInfRef(portal.pool, sender.username)).name;
    const cases: Array<[TestPerson, string, string]> = [
      [vendorAdmin, 'da', 'Filen «erklæring <endelig> & rettet.pdf» fylder over 20 MiB, som er det mest, en GDPR-erklæring må fylde. Vælg en mindre fil, f.eks. en PDF uden skannede billeder i fuld opløsning.'],
      [vendorAdminEn, 'en', 'The file «erklæring <endelig> & rettet.pdf» is over 20 MiB, the limit for a GDPR declaration. Choose a smaller file, e.g. a PDF without scanned images at full resolution.'],
    ];
    for (const [person, language, text] of cases) {
      const c = await portal.login(person);
      const res = await upload(c, `/infrefs/${name}/declaration`, `/infrefs/${name}`, {}, { field: 'document', name: fileName, size: OVER });
      expect([language, res.status, shown(res.html)]).toEqual([language, 413, { alert: text, lang: false }]);
      // The name is the browser's, escaped; the form is there to choose another file.
      expect(res.html).not.toContain('<endelig>');
      expect(res.html).toContain(`action="/infrefs/${name}/declaration"`);
    }
    expect(await stored(name)).toEqual({ declarations: 0, documents: 0, audited: 0 });
    // Exactly 20 MiB is the limit itself: it is taken.
    const c = await portal.login(vendorAdmin);
    const max = await upload(c, `/infrefs/${name}/declaration`, `/infrefs/${name}`, {}, { field: 'document', name: 'erklæring.pdf', size: OVER - 1 });
    expect(max.status).toBe(303);
    expect(await stored(name)).toEqual({ declarations: 1, documents: 1, audited: 1 });
  });

  it('is refused by the API (413) with the refusal\'s code, its English naming the file and the limit, and the field', async () => {
    const name = (await issueInfRef(portal.pool, sender.username)).name;
    const form = new FormData();
    form.append('document', new Blob([Buffer.alloc(OVER)], { type: 'application/pdf' }), fileName);
    const res = await fetch(`${portal.baseUrl}/api/v1/infrefs/${name}/declaration`, { method: 'POST', headers: { authorization: `Bearer ${await apiToken(portal.pool, vendorAdmin.email)}` }, body: form });
    const detail = 'The file «erklæring <endelig> & rettet.pdf» is over 20 MiB, the limit for a GDPR declaration. Choose a smaller file, e.g. a PDF without scanned images at full resolution.';
    expect([res.status, res.headers.get('content-type'), await res.json()]).toEqual([413, expect.stringMatching(/^application\/problem\+json/), expect.objectContaining({
      status: 413,
      code: 'declaration-document-too-big',
      detail,
      errors: [{ pointer: '#/document', field: 'document', detail }],
    })]);
    expect(await stored(name)).toEqual({ declarations: 0, documents: 0, audited: 0 });
  });

  it('is refused as an SSH key file on the register page (413) naming it, with what was typed kept', async () => {
    const c = await portal.login(operator);
    const fields = { username: 'stor-noegle', uuid: '', sshPublicKey: '', inbox: '', metadata: '', vendor: 'Leverandør R' };
    const res = await upload(c, '/systems/new', '/systems/new', fields, { field: 'keyFile', name: 'id_ed25519.pub', size: OVER });
    expect([res.status, shown(res.html)]).toEqual([413, { alert: 'Filen «id_ed25519.pub» fylder over 20 MiB og er ikke en offentlig SSH-nøgle, som er én linje. Vælg .pub-filen fra ssh-keygen, eller indsæt nøglen i feltet.', lang: false }]);
    expect(valueOf(res.html, 'username')).toBe('stor-noegle');
    expect((await portal.pool.query("SELECT count(*)::int AS n FROM systems WHERE username = 'stor-noegle'")).rows[0].n).toBe(0);
  });
});

describe('a file field given twice', () => {
  it('is named with the file\'s name beside the text, not as an object', async () => {
    const name = (await issueInfRef(portal.pool, sender.username)).name;
    const c = await portal.login(vendorAdmin);
    await c.get(`/infrefs/${name}`);
    const form = new FormData();
    form.append('_csrf', c.csrf);
    form.append('document', 'tekst');
    form.append('document', new Blob(['%PDF'], { type: 'application/pdf' }), 'erklæring.pdf');
    const res = await c.fetch(`/infrefs/${name}/declaration`, { method: 'POST', body: form });
    expect([res.status, shown(await res.text()).alert]).toEqual([400, '«GDPR-erklæring (fil)»: «tekst, erklæring.pdf» kan ikke bruges.']);
  });
});

describe('a form bigger than the portal takes', () => {
  const BOUNDARY = 'grænse-7f3a';
  /** The start of a multipart body: its one file part's headers, the file's bytes to follow. */
  const partHead = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="document"; filename="stor.pdf"\r\nContent-Type: application/pdf\r\n\r\n`);

  interface Sent {
    status: number;
    headers: string;
    body: string;
    /** The body's bytes written before the answer came. */
    sent: number;
  }

  /**
   * A raw POST of a multipart body that never ends: declared as `length` bytes (or chunked), its
   * file's bytes written as long as the socket takes them and no answer has come (up to 64 MiB);
   * returns once the portal has answered and closed its side of the connection.
   */
  function post(path: string, auth: Record<string, string>, length?: number): Promise<Sent> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(portal.baseUrl).port), '127.0.0.1');
      let received = Buffer.alloc(0);
      let sent = 0;
      socket.on('error', () => undefined);
      socket.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
      // The portal closes its side after the answer (and the whole connection a little later).
      socket.on('end', () => socket.destroy());
      socket.on('close', () => {
        const text = received.toString('utf8');
        const [headers = '', body = ''] = text.split('\r\n\r\n');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]);
        if (!status) reject(new Error(`no answer after ${sent} bytes: ${JSON.stringify(text.slice(0, 200))}`));
        else resolve({ status, headers, body: /transfer-encoding: chunked/i.test(headers) ? dechunk(body) : body, sent });
      });
      const head = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', `Content-Type: multipart/form-data; boundary=${BOUNDARY}`, length === undefined ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`, ...Object.entries(auth).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 0x25);
      const frame = (b: Buffer) => (length === undefined ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]) : b);
      const write = () => {
        while (received.length === 0 && !socket.destroyed) {
          // A portal that reads on without answering: no more than 64 MiB of it, then give up.
          if (sent >= 64 * 1024 * 1024) return void socket.destroy();
          const b = sent === 0 ? Buffer.concat([partHead, chunk]) : chunk;
          sent += b.length;
          if (!socket.write(frame(b))) return void socket.once('drain', write);
        }
      };
      write();
    });
  }
  const dechunk = (body: string) => body.replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, '').replace(/\r\n[0-9a-f]+\r\n/g, '');
  const alertOf = (html: string) => /<p role="alert">([\s\S]*?)<\/p>/.exec(html)?.[1]?.replace(/&#39;/g, "'");
  const declarations = async (name: string) => (await portal.pool.query('SELECT count(*)::int AS n FROM gdpr_declarations g JOIN infrefs i ON i.id = g.infref_id WHERE i.number = $1 AND i.version = $2', [Number(/GDPR(\d+)_/.exec(name)![1]), Number(/_(\d+)$/.exec(name)![1])])).rows[0].n;

  it('that says it is 1 GiB is refused (413) at once, before its body is sent, and its connection closed: on the page in Danish and English, in the API with its code', async () => {
    const name = (await issueInfRef(portal.pool, sender.username)).name;
    const GiB = 1024 * 1024 * 1024;
    const vendorAdminEn = await addPerson(portal.pool, { role: 'vendor-admin', vendorId: sender.vendorId, language: 'en' });
    const cases: Array<[TestPerson, string]> = [
      [vendorAdmin, 'Formularen fylder 1 GiB, mere end portalen tager imod; en fil må højst fylde 20 MiB. Vælg en mindre fil.'],
      [vendorAdminEn, 'The form is 1 GiB, more than the portal takes; a file may be at most 20 MiB. Choose a smaller file.'],
    ];
    for (const [person, text] of cases) {
      const c = await portal.login(person);
      const res = await post(`/infrefs/${name}/declaration`, { cookie: `filudveksling_session=${c.cookie('filudveksling_session')}` }, GiB);
      expect([res.status, alertOf(res.body)]).toEqual([413, text]);
      expect(res.headers).toMatch(/\r\nconnection: close/i);
      // Answered while almost all of the body was still to come (what the socket buffers is all that went).
      expect(res.sent).toBeLessThan(GiB / 100);
    }
    const api = await post(`/api/v1/infrefs/${name}/declaration`, { authorization: `Bearer ${await apiToken(portal.pool, vendorAdmin.email)}` }, GiB);
    expect([api.status, /^content-type: application\/problem\+json/im.test(api.headers), JSON.parse(api.body)]).toEqual([413, true, expect.objectContaining({
      status: 413,
      code: 'form-too-big',
      detail: 'The form is 1 GiB, more than the portal takes; a file may be at most 20 MiB. Choose a smaller file.',
    })]);
    expect(api.sent).toBeLessThan(GiB / 100);
    expect(await declarations(name)).toBe(0);
  });

  it('sent without a length (chunked) is cut off (413) once it has sent more than the portal takes', async () => {
    const name = (await issueInfRef(portal.pool, sender.username)).name;
    const api = await post(`/api/v1/infrefs/${name}/declaration`, { authorization: `Bearer ${await apiToken(portal.pool, vendorAdmin.email)}` });
    expect([api.status, JSON.parse(api.body)]).toEqual([413, expect.objectContaining({
      code: 'form-too-big',
      detail: 'The form is larger than the portal takes; a file may be at most 20 MiB. Choose a smaller file.',
    })]);
    // Past the limit, and not much further: what the sockets buffer while the answer is on its way.
    expect(api.sent).toBeGreaterThan(MULTIPART_BODY_LIMIT);
    expect(api.sent).toBeLessThan(MULTIPART_BODY_LIMIT + 16 * 1024 * 1024);
    const c = await portal.login(vendorAdmin);
    const page = await post(`/infrefs/${name}/declaration`, { cookie: `filudveksling_session=${c.cookie('filudveksling_session')}` });
    expect([page.status, alertOf(page.body)]).toEqual([413, 'Formularen fylder mere, end portalen tager imod; en fil må højst fylde 20 MiB. Vælg en mindre fil.']);
    expect(await declarations(name)).toBe(0);
  });
});

describe('the API says the same refusals as problem+json with their code', () => {
  async function call(person: TestPerson, method: string, path: string, body?: unknown | FormData): Promise<{ status: number; type: string; body: any }> {
    const token = await apiToken(portal.pool, person.email);
    const json = body !== undefined && !(body instanceof FormData);
    const res = await fetch(`${portal.baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/json' } : {}) },
      body: json ? JSON.stringify(body) : (body as FormData | undefined),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() };
  }
  const documentForm = (data: string) => {
    const form = new FormData();
    form.append('document', new Blob([data], { type: 'application/pdf' }), 'erklæring.pdf');
    return form;
  };

  it('names the code, says it in the catalogue\'s English and never the CLI\'s commands', async () => {
    const pending = (await issueInfRef(portal.pool, sender.username)).name;
    const cases: Array<[TestPerson, string, string, unknown, number, Record<string, unknown>]> = [
      [vendorAdmin, 'POST', `/infrefs/${infref}/declaration`, documentForm('%PDF signed'), 409, { code: 'declaration-approved', detail: `The GDPR declaration for ${infref} is already approved; there is nothing to send.` }],
      [vendorAdmin, 'POST', `/infrefs/${pending}/declaration`, documentForm(''), 400, { code: 'declaration-document-empty', detail: 'The file «erklæring.pdf» is empty; choose the signed GDPR declaration.' }],
      [vendorAdmin, 'POST', '/agreements', { system: sender.username, service: 'send', authorities: ['0999'] }, 400, {
        code: 'kommunekode-unknown',
        detail: 'Unknown kommunekode 0999: no municipality has it. See Authorities for those that exist.',
        errors: [{ pointer: '#/authorities', field: 'authorities', detail: 'Unknown kommunekode 0999: no municipality has it. See Authorities for those that exist.' }],
      }],
      [operator, 'POST', '/systems', { username: 'nyt-system', vendor: 'Ukendt A/S', sshPublicKey: sender.publicKey }, 400, {
        code: 'vendor-unknown',
        errors: [{ pointer: '#/vendor', field: 'vendor', detail: 'No vendor is named «Ukendt A/S». Check the name under Vendors.' }],
      }],
      [operator, 'GET', '/usage?from=2026-02-30', undefined, 400, { code: 'day-invalid', detail: '«2026-02-30» is not a day of the calendar; give a date that exists, as YYYY-MM-DD, e.g. 2026-12-31.' }],
    ];
    for (const [person, method, path, body, status, problem] of cases) {
      const res = await call(person, method, path, body);
      expect([path, res.status, res.type, res.body]).toEqual([path, status, expect.stringMatching(/^application\/problem\+json/), expect.objectContaining(problem)]);
      expect(JSON.stringify(res.body)).not.toContain('filudveksling');
    }
  });
});

describe('numbers in a refusal', () => {
  it('are written as the page\'s language writes them: a decimal comma in Danish, a point in English', () => {
    const tooBig = (() => {
      try {
        checkDocument({ name: 'erklæring.pdf', data: Buffer.alloc(21.5 * 1024 * 1024) });
      } catch (err) {
        return err;
      }
      throw new Error('a document of 21.5 MiB was taken');
    })();
    expect(refusalText('da', tooBig)).toBe('Filen «erklæring.pdf» fylder 21,5 MiB; den må højst fylde 20 MiB. Vælg en mindre fil, f.eks. en PDF uden skannede billeder i fuld opløsning.');
    expect(refusalText('en', tooBig)).toBe('The file «erklæring.pdf» is 21.5 MiB; the limit is 20 MiB. Choose a smaller file, e.g. a PDF without scanned images at full resolution.');
  });

  it('round a size over a limit up, so that a few bytes over 20 MiB never read as the limit', () => {
    let err: unknown;
    try {
      checkDocument({ name: 'erklæring.pdf', data: Buffer.alloc(20 * 1024 * 1024 + 3) });
    } catch (e) {
      err = e;
    }
    expect(refusalText('da', err)).toBe('Filen «erklæring.pdf» fylder 20,1 MiB; den må højst fylde 20 MiB. Vælg en mindre fil, f.eks. en PDF uden skannede billeder i fuld opløsning.');
    expect(refusalText('en', err)).toBe('The file «erklæring.pdf» is 20.1 MiB; the limit is 20 MiB. Choose a smaller file, e.g. a PDF without scanned images at full resolution.');
    expect((err as Error).message).toMatch(/is 20\.1 MiB; the limit is 20 MiB/);
    // Rounding up never writes 1.024 KiB for a byte under 1 MiB, nor the limit for a byte over it.
    expect([formatsFor('da').bytes(1024 * 1024 - 1, 'up'), formatsFor('en').bytes(20 * 1024 * 1024 + 1, 'up'), formatsFor('en').bytes(20 * 1024 * 1024, 'up')]).toEqual(['1 MiB', '20.1 MiB', '20 MiB']);
  });
});

describe('catalogue', () => {
  it('every code a domain refusal carries has its words in Danish and English', () => {
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    const codes = new Set<string>();
    for (const file of walk(fileURLToPath(new URL('../src', import.meta.url))).filter((f) => f.endsWith('.ts') && !f.includes('/cli/'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new (?:RefusedError|UsageError|NotFoundError)\(/g)) {
        let depth = 1;
        let i = m.index! + m[0].length;
        for (; depth > 0 && i < text.length; i++) depth += text[i] === '(' ? 1 : text[i] === ')' ? -1 : 0;
        const about = /code: ([^,}]+)/.exec(text.slice(m.index!, i))?.[1] ?? '';
        for (const c of about.matchAll(/'([a-z][a-z0-9-]*)'/g)) codes.add(c[1]!);
      }
    }
    expect(codes.size).toBeGreaterThan(40);
    expect([...codes].filter((c) => !(`refusal.${c}` in da) || !(`refusal.${c}` in en))).toEqual([]);
  });
});
