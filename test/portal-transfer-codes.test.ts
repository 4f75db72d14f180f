/**
 * Issue 9: a transfer's error code is said in the page's language — a sentence per receipt code
 * (SPEC §5, src/triggers/error-codes.ts) from the catalogues — with the router's own English
 * beneath it, labelled, for the values it names (a CVR, an InfRef, sizes); never the CLI's commands.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { da } from '../src/portal/i18n/da.js';
import { en } from '../src/portal/i18n/en.js';
import { ERROR_CODE_NAMES, ERROR_CODES } from '../src/triggers/error-codes.js';
import { registerSystem, type TestSystem } from './helpers/factories.js';
import { addPerson, startPortal, type PortalClient, type TestPortal } from './helpers/portal.js';

let portal: TestPortal;
let sender: TestSystem;
let danish: PortalClient;
let english: PortalClient;

beforeAll(async () => {
  portal = await startPortal();
  sender = await registerSystem(portal.pool, { username: 'fag-koder', vendor: 'Leverandør K', dataDir: portal.config.dataDir });
  [danish, english] = await Promise.all([
    addPerson(portal.pool, { role: 'operator' }).then((p) => portal.login(p)),
    addPerson(portal.pool, { role: 'operator', language: 'en' }).then((p) => portal.login(p)),
  ]);
}, 60_000);
afterAll(async () => portal?.close());

/** A transfer the router refused, as it records one: its code and its English text on the row. */
async function refused(code: string, text: string, o: { status?: 'rejected' | 'failed'; fileName?: string } = {}): Promise<string> {
  const id = randomUUID();
  await portal.pool.query(
    `INSERT INTO transfers (id, sender_system_id, trigger_name, trigger_key, file_name, status, error_code, error_text, decided_at)
     VALUES ($1::uuid, $2, 'elever.trigger', $3, $4, $5, $6, $7, now())`,
    [id, sender.id, `test-${id}`, o.fileName ?? 'elever.csv', o.status ?? 'rejected', code, text],
  );
  return id;
}

const unescape = (s: string) => s.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** What the page says of the error: the code beside the status, the sentence, the labelled line beneath (as text). */
async function shown(c: PortalClient, id: string): Promise<{ code: string; sentence: string; detail: string; html: string }> {
  const html = await (await c.get(`/transfers/${id}`)).text();
  const error = /<dd class="transfer-error">([\s\S]*?)<\/dd>/.exec(html)?.[1] ?? '';
  const text = (s: string | undefined) => unescape((s ?? '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim());
  return {
    code: text(/<span class="status [^"]*">[^<]*<\/span>([\s\S]*?)<\/dd>/.exec(html)?.[1]),
    sentence: text(/^\s*<p>([\s\S]*?)<\/p>/.exec(error)?.[1]),
    detail: text(/<p class="detail">([\s\S]*?)<\/p>/.exec(error)?.[1]),
    html,
  };
}

describe("a transfer's error on its page", () => {
  it('is a Danish sentence on a Danish page, with the router\'s English beneath, labelled, naming the CVR and without the CLI\'s command', async () => {
    const id = await refused('AUTHORITY_UNKNOWN', "RecipientAuthority urn:oio:cvr-nr:12345678 is not a known authority; an operator adds it with 'filudveksling authority add 12345678 --name …'");
    const page = await shown(danish, id);
    expect(page.code).toBe('— 1201 AUTHORITY_UNKNOWN');
    expect(page.sentence).toBe(da['transfers.code.AUTHORITY_UNKNOWN']);
    expect(page.detail).toBe(`${da['transfers.error.detail']} RecipientAuthority urn:oio:cvr-nr:12345678 is not a known authority.`);
    expect(page.html).toMatch(/<span lang="en">RecipientAuthority urn:oio:cvr-nr:12345678/);
    expect(page.html).not.toContain('filudveksling authority');
  });

  it('names the file in Danish where the code is about the file', async () => {
    const id = await refused('FILE_MISSING', "No data file 'elevliste 2026.csv' in /OUT; upload the data file before its trigger, under the name the trigger's FileName gives", { fileName: 'elevliste 2026.csv' });
    const page = await shown(danish, id);
    expect(page.sentence).toBe(da['transfers.code.FILE_MISSING'].replace('{file}', 'elevliste 2026.csv'));
    expect(page.sentence).toContain('«elevliste 2026.csv»');
  });

  it('is an English sentence on an English page, the router\'s message beneath', async () => {
    const id = await refused('DELIVERY_FAILED', "Delivery failed after 5 attempts: the file could not be placed with every recipient, so none has it. The operator can retry it with 'filudveksling transfer retry 0'", { status: 'failed' });
    const page = await shown(english, id);
    expect(page.code).toBe('— 1901 DELIVERY_FAILED');
    expect(page.sentence).toBe(en['transfers.code.DELIVERY_FAILED'].replace('{file}', 'elever.csv'));
    expect(page.detail).toBe(`${en['transfers.error.detail']} Delivery failed after 5 attempts: the file could not be placed with every recipient, so none has it.`);
  });

  it('says every receipt code in both languages, each its own sentence with its values filled in', async () => {
    const said: Record<string, string[]> = {};
    for (const name of ERROR_CODE_NAMES) {
      const id = await refused(name, `${ERROR_CODES[name].description} (a test)`, { status: name === 'DELIVERY_FAILED' ? 'failed' : 'rejected' });
      said[name] = [(await shown(danish, id)).sentence, (await shown(english, id)).sentence];
    }
    for (const name of ERROR_CODE_NAMES) {
      const [inDanish, inEnglish] = said[name]!;
      expect([name, inDanish]).toEqual([name, da[`transfers.code.${name}` as keyof typeof da].replace(/\{file\}/g, 'elever.csv').replace(/\{trigger\}/g, 'elever.trigger').replace(/\{sender\}/g, 'fag-koder')]);
      expect([name, inEnglish]).toEqual([name, en[`transfers.code.${name}` as keyof typeof da].replace(/\{file\}/g, 'elever.csv').replace(/\{trigger\}/g, 'elever.trigger').replace(/\{sender\}/g, 'fag-koder')]);
      expect([name, inDanish === inEnglish, /[{}]/.test(inDanish + inEnglish)]).toEqual([name, false, false]);
    }
    const sentences = Object.values(said).map(([d]) => d);
    expect(new Set(sentences).size).toBe(ERROR_CODE_NAMES.length);
  });

  it('a code the portal does not know is named as it is, in a sentence of the page\'s language', async () => {
    const id = await refused('SOMETHING_NEW', 'A reason from a newer router');
    expect((await shown(danish, id)).sentence).toBe(da['transfers.code.other'].replace('{code}', 'SOMETHING_NEW'));
    expect((await shown(english, id)).code).toBe('— SOMETHING_NEW');
  });
});
