import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseTrigger, salvageTriggerFields, TriggerError, type Trigger, type TriggerErrorCode } from '../src/triggers/parse-trigger.js';
import { testLog } from './helpers/test-log.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/triggers/', import.meta.url));
const fixture = (name: string): Buffer => readFileSync(FIXTURES + name);

function refusal(input: Buffer | string): TriggerError {
  try {
    parseTrigger(input);
  } catch (e) {
    if (e instanceof TriggerError) return e;
    throw e;
  }
  throw new Error('parseTrigger accepted the trigger');
}

/** What the SPEC §4 example reads as. */
const SPEC_EXAMPLE: Trigger = {
  fileName: 'FAGSYSX_0751_borgere_20261122.csv',
  sizeInBytes: 1048576,
  sender: 'afsender-a',
  sendersFileId: '6f1c1c0e-6a4e-4e5e-9a53-2b8f7d1a0c11',
  recipients: ['ROUTING_V1_0_0'],
  routing: {
    infRef: 'FagsystemdefineredeDataRefGDPR1203_1',
    senderItSystem: 'cfcf2769-9a1f-4d3b-b6d2-ddfb3a2f9dd6',
    senderAuthority: '55133018',
    transactionId: '752bc93a-37cb-46db-9fb1-d5f4f7e3964e',
    senderTimestamp: '2026-11-22T10:15:00+01:00',
    recipientItSystem: '3f2c6d1e-8b7a-4c5d-9e0f-112233445566',
    recipientAuthority: '55133018',
    routeSelectionValueDate: '2026-11-22',
    sha256: 'a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447',
  },
};
const { recipientItSystem: _r, routeSelectionValueDate: _d, sha256: _s, ...MINIMAL_ROUTING } = SPEC_EXAMPLE.routing;
const MINIMAL: Trigger = { ...SPEC_EXAMPLE, routing: MINIMAL_ROUTING };

/** Every fixture and what parseTrigger must make of it (fixtures/triggers/README.md says the same in words). */
const ACCEPTED: Record<string, Trigger> = {
  'spec-example.trigger': SPEC_EXAMPLE,
  'minimal.trigger': MINIMAL,
  'without-recipient-it-system.trigger': { ...SPEC_EXAMPLE, routing: { ...MINIMAL_ROUTING, routeSelectionValueDate: '2026-11-22', sha256: SPEC_EXAMPLE.routing.sha256! } },
  'with-route-selection-date.trigger': { ...SPEC_EXAMPLE, routing: { ...MINIMAL_ROUTING, recipientItSystem: SPEC_EXAMPLE.routing.recipientItSystem!, routeSelectionValueDate: '2026-11-22' } },
  'with-sha256.trigger': { ...SPEC_EXAMPLE, routing: { ...MINIMAL_ROUTING, recipientItSystem: SPEC_EXAMPLE.routing.recipientItSystem!, sha256: SPEC_EXAMPLE.routing.sha256! } },
  // SPEC §10 leniency: each reads exactly as the SPEC example
  'prefix-ns2.trigger': SPEC_EXAMPLE,
  'prefix-sftp.trigger': SPEC_EXAMPLE,
  'cdata.trigger': SPEC_EXAMPLE,
  'values-over-lines.trigger': SPEC_EXAMPLE,
  'extra-xmlns.trigger': SPEC_EXAMPLE,
  'no-declaration.trigger': SPEC_EXAMPLE,
  'utf8-bom.trigger': SPEC_EXAMPLE,
  'uppercase-uuids.trigger': SPEC_EXAMPLE,
  'unknown-elements.trigger': SPEC_EXAMPLE,
  'qualified-children.trigger': MINIMAL,
  'default-namespace.trigger': { ...MINIMAL, routing: { ...MINIMAL_ROUTING, routeSelectionValueDate: '2026-11-22' } },
  'named-recipients.trigger': { ...MINIMAL, recipients: ['modtager-b', 'modtager-c'] },
  'danish-file-name.trigger': { ...MINIMAL, fileName: 'Børn & unge – Århus 2026 (æøå).csv' },
  'latin1.trigger': { ...MINIMAL, fileName: 'Børn og unge Århus.csv' },
};

const REFUSED: Record<string, [TriggerErrorCode, RegExp]> = {
  'malformed-unclosed.trigger': ['TRIGGER_MALFORMED', /not well-formed XML.*FileDescriptor/],
  'malformed-not-xml.trigger': ['TRIGGER_MALFORMED', /not well-formed XML/],
  'malformed-empty.trigger': ['TRIGGER_MALFORMED', /empty/],
  'malformed-undeclared-entity.trigger': ['TRIGGER_MALFORMED', /entity '&sender;'/],
  'malformed-invalid-utf8.trigger': ['TRIGGER_MALFORMED', /not valid UTF-8/],
  'doctype.trigger': ['TRIGGER_MALFORMED', /DOCTYPE/],
  'external-entity.trigger': ['TRIGGER_MALFORMED', /DOCTYPE/],
  'billion-laughs.trigger': ['TRIGGER_MALFORMED', /DOCTYPE/],
  'wrong-root.trigger': ['TRIGGER_MALFORMED', /root element is <sp:FileMetadata>.*must be Trigger/],
  'wrong-namespace.trigger': ['TRIGGER_MALFORMED', /namespace 'http:\/\/serviceplatformen\.dk\/xml\/wsdl\/soap11\/SFTP\/2\/types'/],
  'no-namespace.trigger': ['TRIGGER_MALFORMED', /<Trigger> in no namespace/],
  'oversize.trigger': ['TRIGGER_MALFORMED', /larger than 65536 bytes \(64 KiB\)/],
  'simple-transfer.trigger': ['TRIGGER_INVALID', /^SFTPDynamicRoutingInfo is missing.*"simple transfer" is not supported/],
  'missing-filedescriptor.trigger': ['TRIGGER_INVALID', /^FileDescriptor is missing/],
  'missing-filename.trigger': ['TRIGGER_INVALID', /^FileName is missing from FileDescriptor/],
  'missing-sizeinbytes.trigger': ['TRIGGER_INVALID', /^SizeInBytes is missing from FileDescriptor/],
  'missing-sender.trigger': ['TRIGGER_INVALID', /^Sender is missing from FileDescriptor/],
  'missing-recipients.trigger': ['TRIGGER_INVALID', /^Recipients is missing from FileDescriptor/],
  'missing-infref.trigger': ['TRIGGER_INVALID', /^InfRef is missing from SFTPDynamicRoutingInfo/],
  'missing-senderit-system.trigger': ['TRIGGER_INVALID', /^SenderIt-system is missing/],
  'missing-senderauthority.trigger': ['TRIGGER_INVALID', /^SenderAuthority is missing/],
  'missing-transactionid.trigger': ['TRIGGER_INVALID', /^TransactionId is missing/],
  'missing-sendertimestamp.trigger': ['TRIGGER_INVALID', /^SenderTimestamp is missing/],
  'missing-recipientauthority.trigger': ['TRIGGER_INVALID', /^RecipientAuthority is missing/],
  'invalid-filename-path.trigger': ['TRIGGER_INVALID', /^FileName must be .*, got '\.\.\/\.\.\/etc\/passwd'$/],
  'invalid-filename-leading-dot.trigger': ['TRIGGER_INVALID', /^FileName must be .*leading dot, got '\.bashrc'$/],
  'invalid-filename-colon.trigger': ['TRIGGER_INVALID', /^FileName must be .*, got 'C:data\.csv'$/],
  'invalid-filename-control-char.trigger': ['TRIGGER_INVALID', /^FileName must be .*control characters.*, got 'data\\u0009\.csv'$/],
  'invalid-filename-too-long.trigger': ['TRIGGER_INVALID', /^FileName must be a file name of 1–255 bytes/],
  'invalid-size-not-a-number.trigger': ['TRIGGER_INVALID', /^SizeInBytes must be a whole number of bytes.*, got '1 MB'$/],
  'invalid-size-negative.trigger': ['TRIGGER_INVALID', /^SizeInBytes must be .*, got '-1'$/],
  'invalid-sender-empty.trigger': ['TRIGGER_INVALID', /^Sender is empty/],
  'invalid-sendersfileid-too-long.trigger': ['TRIGGER_INVALID', /^SendersFileId must be at most 255 characters/],
  'invalid-infref.trigger': ['TRIGGER_INVALID', /^InfRef must be FagsystemdefineredeDataRefGDPR<n>_<v>.*, got 'FagsystemdefineredeDataRefGDPR01_1'$/],
  'invalid-sender-it-system.trigger': ['TRIGGER_INVALID', /^SenderIt-system must be a UUID.*, got 'abc'$/],
  'invalid-sender-authority.trigger': ['TRIGGER_INVALID', /^SenderAuthority must be 'urn:oio:cvr-nr:' followed by an 8-digit CVR number, got 'urn:oio:cvr-nr:5513301'$/],
  'invalid-transaction-id.trigger': ['TRIGGER_INVALID', /^TransactionId must be a UUID.*, got '752bc93a37cb46db9fb1d5f4f7e3964e'$/],
  'invalid-sender-timestamp.trigger': ['TRIGGER_INVALID', /^SenderTimestamp must be an ISO 8601 date-time.*, got '22-11-2026 10:15'$/],
  'invalid-recipient-it-system.trigger': ['TRIGGER_INVALID', /^RecipientIt-system must be a UUID.*, got 'modtager-b'$/],
  'invalid-recipient-authority.trigger': ['TRIGGER_INVALID', /^RecipientAuthority must be .*, got '0751'$/],
  'invalid-route-selection-date.trigger': ['TRIGGER_INVALID', /^RouteSelectionValueDate must be a date YYYY-MM-DD, got '2026-02-30'$/],
  'invalid-sha256.trigger': ['TRIGGER_INVALID', /^Sha256 must be a SHA-256 digest of 64 hex digits/],
  'invalid-duplicate-filename.trigger': ['TRIGGER_INVALID', /^FileName appears 2 times in FileDescriptor/],
  'invalid-element-in-value.trigger': ['TRIGGER_INVALID', /^Sender must be a text value, but it contains the element <name>$/],
  'invalid-several.trigger': ['TRIGGER_INVALID', /RecipientAuthority is missing.*; SenderIt-system must be a UUID.*got 'abc'/],
};

describe('trigger fixtures', () => {
  it('has an expectation for every fixture file, and a file for every expectation', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.trigger')).sort();
    expect(files).toEqual([...Object.keys(ACCEPTED), ...Object.keys(REFUSED)].sort());
  });

  it.each(Object.entries(ACCEPTED))('reads %s', (name, expected) => {
    expect(parseTrigger(fixture(name))).toEqual(expected);
  });

  it.each(Object.entries(REFUSED))('refuses %s', (name, [code, message]) => {
    const e = refusal(fixture(name));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('reads a string the same as the bytes', () => {
    for (const name of Object.keys(ACCEPTED).filter((n) => n !== 'latin1.trigger')) {
      expect(parseTrigger(fixture(name).toString('utf8'))).toEqual(ACCEPTED[name]);
    }
  });
});

describe('hostile triggers', () => {
  it('quotes a value with bidirectional formatting characters as their escapes: the message (a receipt, the transfer page) reads as written', () => {
    // U+202E would show the rest of the router's message right to left: 'abc', RLO, 'fdp.exe' reads as 'abcexe.pdf'.
    const xml = fixture('invalid-sender-it-system.trigger').toString('utf8').replace('>abc<', '>abc\u202efdp.exe\u2066x<');
    const e = refusal(xml);
    expect(e.code).toBe('TRIGGER_INVALID');
    expect(e.message).toMatch(/^SenderIt-system must be a UUID.*, got 'abc\\u202efdp\.exe\\u2066x'$/);
    expect(e.message).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  });

  it('refuses a billion-laughs trigger within milliseconds and without growing memory', () => {
    const xml = fixture('billion-laughs.trigger');
    const heapBefore = process.memoryUsage().heapUsed;
    const started = process.hrtime.bigint();
    const e = refusal(xml);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const grown = process.memoryUsage().heapUsed - heapBefore;
    testLog(`billion laughs refused in ${ms.toFixed(2)} ms, heap +${(grown / 1024).toFixed(0)} KiB`);
    expect(e.code).toBe('TRIGGER_MALFORMED');
    expect(ms).toBeLessThan(1000);
    expect(grown).toBeLessThan(32 * 1024 * 1024);
  });

  it('refuses a DTD however it is spelled or encoded', () => {
    const spec = fixture('spec-example.trigger').toString('utf8');
    const withDoctype = spec.replace('<sp:Trigger', '<!doctype sp:Trigger [ <!ENTITY a "b"> ]>\n<sp:Trigger');
    expect(refusal(withDoctype).code).toBe('TRIGGER_MALFORMED');
    expect(refusal('\uFEFF' + withDoctype).code).toBe('TRIGGER_MALFORMED');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(withDoctype.replace('encoding="UTF-8"', 'encoding="UTF-16"'), 'utf16le')]);
    expect(refusal(utf16).message).toMatch(/DOCTYPE/);
    expect(refusal(spec.replace('<FileDescriptor>', '<FileDescriptor><!ENTITY x "y">')).message).toMatch(/DTD or entity declaration/);
  });

  it('never expands an entity: a predefined one or a character reference is all there is', () => {
    const spec = fixture('minimal.trigger').toString('utf8');
    const t = parseTrigger(spec.replace('FAGSYSX_0751_borgere_20261122.csv', 'a&amp;b&#229;&#xE6;.csv'));
    expect(t.fileName).toBe('a&båæ.csv');
    expect(refusal(spec.replace('afsender-a', 'afsender&nbsp;a')).message).toMatch(/entity '&nbsp;'/);
    expect(refusal(spec.replace('afsender-a', 'afsender & a')).message).toMatch(/'&'/);
    expect(refusal(spec.replace('afsender-a', 'afsender&#0;a')).code).toBe('TRIGGER_MALFORMED');
  });

  it('takes a trigger of exactly 64 KiB and refuses one byte more', () => {
    const spec = fixture('spec-example.trigger').toString('utf8');
    const pad = (bytes: number) => spec.replace('<FileDescriptor>', `<!-- ${'x'.repeat(bytes - Buffer.byteLength(spec) - 12)} -->\n  <FileDescriptor>`);
    expect(Buffer.byteLength(pad(65536))).toBe(65536);
    expect(parseTrigger(pad(65536))).toEqual(SPEC_EXAMPLE);
    expect(refusal(Buffer.from(pad(65537))).message).toMatch(/larger than 65536 bytes/);
    expect(refusal(Buffer.from(pad(65537)).subarray(0, 65537)).code).toBe('TRIGGER_MALFORMED');
  });

  it('survives thousands of mutated triggers: every outcome is a Trigger or a TriggerError, each fast', () => {
    let seed = 20261122;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const sources = ['spec-example.trigger', 'cdata.trigger', 'values-over-lines.trigger', 'default-namespace.trigger'].map((n) => fixture(n));
    const pieces = ['<', '>', '&', '&amp;', '<![CDATA[', ']]>', '<!--', '-->', '"', "'", '</FileName>', '<sp:', 'xmlns:sp="urn:x"', '\u0000', '\uFEFF', '<?xml?>', '<!DOCTYPE'];
    let slowest = 0;
    for (let i = 0; i < 3000; i++) {
      const text = sources[random(sources.length)]!.toString('utf8');
      const at = random(text.length);
      const cut = random(3) === 0 ? random(40) : 0;
      const mutated = text.slice(0, at) + pieces[random(pieces.length)] + text.slice(at + cut);
      const started = performance.now();
      try {
        parseTrigger(mutated);
      } catch (e) {
        if (!(e instanceof TriggerError)) throw new Error(`mutation ${i} threw ${String(e)} for ${JSON.stringify(mutated.slice(Math.max(0, at - 20), at + 20))}`);
      }
      salvageTriggerFields(mutated);
      slowest = Math.max(slowest, performance.now() - started);
    }
    testLog(`3000 mutated triggers, slowest parse+salvage ${slowest.toFixed(2)} ms`);
    expect(slowest).toBeLessThan(500);
  });

  it('refuses nesting deeper than any trigger needs', () => {
    const spec = fixture('spec-example.trigger').toString('utf8');
    const deep = spec.replace('<FileDescriptor>', `${'<x>'.repeat(5000)}${'</x>'.repeat(5000)}<FileDescriptor>`);
    expect(refusal(deep).code).toBe('TRIGGER_MALFORMED');
  });

  it('refuses an undeclared namespace prefix, two roots and text outside the root', () => {
    const spec = fixture('spec-example.trigger').toString('utf8');
    expect(refusal(spec.replace('<FileName>', '<x:Extra>1</x:Extra><FileName>')).message).toMatch(/prefix 'x'.*without declaring it/);
    expect(refusal(spec + '<sp:Trigger xmlns:sp="urn:x"/>').code).toBe('TRIGGER_MALFORMED');
    expect(refusal(spec + 'trailing text').code).toBe('TRIGGER_MALFORMED');
  });

  it('refuses a declared encoding it cannot read, naming it', () => {
    const spec = fixture('spec-example.trigger').toString('utf8');
    const e = refusal(Buffer.from(spec.replace('encoding="UTF-8"', 'encoding="EBCDIC-CP-DK"')));
    expect(e.message).toMatch(/encoding 'EBCDIC-CP-DK'.*UTF-8/);
  });

  it('reads UTF-16 with a byte-order mark', () => {
    const spec = fixture('spec-example.trigger').toString('utf8').replace('encoding="UTF-8"', 'encoding="UTF-16"');
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(spec, 'utf16le')]);
    expect(parseTrigger(le)).toEqual(SPEC_EXAMPLE);
    const be = Buffer.from(le);
    be.swap16();
    expect(parseTrigger(be)).toEqual(SPEC_EXAMPLE);
  });
});

describe('lenient reading (SPEC §4, §10)', () => {
  const minimal = () => fixture('minimal.trigger').toString('utf8');

  it('reads a RouteSelectionValueDate that is unqualified or carries a time zone, and ignores one in a foreign namespace', () => {
    const add = (param: string) => minimal().replace('    </SFTPDynamicRoutingInfo>', `      <RouteParameterList><RouteParameter>${param}</RouteParameter></RouteParameterList>\n    </SFTPDynamicRoutingInfo>`);
    expect(parseTrigger(add('<RouteSelectionValueDate>2026-12-01</RouteSelectionValueDate>')).routing.routeSelectionValueDate).toBe('2026-12-01');
    expect(parseTrigger(add('<sp:RouteSelectionValueDate>2026-12-01+01:00</sp:RouteSelectionValueDate>')).routing.routeSelectionValueDate).toBe('2026-12-01');
    expect(parseTrigger(add('<o:RouteSelectionValueDate xmlns:o="urn:other">2026-12-01</o:RouteSelectionValueDate>')).routing.routeSelectionValueDate).toBeUndefined();
    expect(parseTrigger(add('<Sha256>' + 'a'.repeat(64) + '</Sha256>')).routing.sha256).toBeUndefined();
    expect(parseTrigger(add('<h:Sha256 xmlns:h="urn:filudveksling:xml:1">' + 'AB'.repeat(32) + '</h:Sha256>')).routing.sha256).toBe('ab'.repeat(32));
  });

  it('treats an empty optional element as absent', () => {
    const t = parseTrigger(minimal().replace('<SendersFileId>6f1c1c0e-6a4e-4e5e-9a53-2b8f7d1a0c11</SendersFileId>', '<SendersFileId/>').replace('</SenderTimestamp>', '</SenderTimestamp><RecipientIt-system>  </RecipientIt-system>'));
    expect(t.sendersFileId).toBeUndefined();
    expect(t.routing.recipientItSystem).toBeUndefined();
  });

  it('reads children in any order and in any namespace, by local name', () => {
    const shuffled = minimal()
      .replace('<FileName>FAGSYSX_0751_borgere_20261122.csv</FileName>', '')
      .replace('<Recipients>ROUTING_V1_0_0</Recipients>', '<Recipients>ROUTING_V1_0_0</Recipients><q:FileName xmlns:q="urn:q">FAGSYSX_0751_borgere_20261122.csv</q:FileName>');
    expect(parseTrigger(shuffled)).toEqual(MINIMAL);
  });

  it('keeps a SenderTimestamp as sent (trimmed) and accepts fractions and Z', () => {
    const t = parseTrigger(minimal().replace('2026-11-22T10:15:00+01:00', ' 2026-11-22T09:15:00.123Z '));
    expect(t.routing.senderTimestamp).toBe('2026-11-22T09:15:00.123Z');
    expect(refusal(minimal().replace('2026-11-22T10:15:00+01:00', '2026-02-30T10:15:00')).message).toMatch(/^SenderTimestamp must be/);
  });
});

describe('salvageTriggerFields', () => {
  it('reads FileName, SendersFileId and Sender from a trigger that cannot be parsed', () => {
    expect(salvageTriggerFields(fixture('malformed-unclosed.trigger'))).toEqual({
      fileName: 'FAGSYSX_0751_borgere_20261122.csv',
      sendersFileId: '6f1c1c0e-6a4e-4e5e-9a53-2b8f7d1a0c11',
      sender: 'afsender-a',
    });
    expect(salvageTriggerFields(fixture('cdata.trigger'))).toEqual({ fileName: 'FAGSYSX_0751_borgere_20261122.csv', sendersFileId: '6f1c1c0e-6a4e-4e5e-9a53-2b8f7d1a0c11', sender: 'afsender-a' });
    expect(salvageTriggerFields(fixture('oversize.trigger')).sendersFileId).toBe('6f1c1c0e-6a4e-4e5e-9a53-2b8f7d1a0c11');
  });

  it('does not expand entities and leaves out values of an unacceptable form', () => {
    expect(salvageTriggerFields(fixture('billion-laughs.trigger'))).toEqual({ fileName: 'FAGSYSX_0751_borgere_20261122.csv', sendersFileId: '6f1c1c0e-6a4e-4e5e-9a53-2b8f7d1a0c11' });
    expect(salvageTriggerFields(fixture('invalid-filename-path.trigger')).fileName).toBeUndefined();
  });

  it('never throws, whatever it is given', () => {
    expect(salvageTriggerFields('')).toEqual({});
    expect(salvageTriggerFields(Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0x01]))).toEqual({});
    expect(salvageTriggerFields('<FileName>' + '<'.repeat(100_000))).toEqual({});
    expect(salvageTriggerFields(Buffer.alloc(5 * 1024 * 1024, 0x3c))).toEqual({});
  });

  it('stays fast on input built to make a regular expression backtrack', () => {
    const started = performance.now();
    expect(salvageTriggerFields('<FileName>' + '<![CDATA[x]]>'.repeat(40) + 'never closed')).toEqual({});
    expect(salvageTriggerFields('<FileName><![CDATA['.repeat(50_000))).toEqual({});
    expect(salvageTriggerFields('<FileName>' + '&amp;'.repeat(100_000) + '</FileName>')).toEqual({}); // too long to be a FileName
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
