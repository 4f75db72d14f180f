import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildFileMetadata, buildLegacyMetadata, buildReceipt, buildTrigger, type MetadataInput } from '../src/triggers/build-xml.js';
import { ERROR_CODE_NAMES, ERROR_CODES, errorCodeName } from '../src/triggers/error-codes.js';
import { parseTrigger, salvageTriggerFields, TriggerError, type Trigger } from '../src/triggers/parse-trigger.js';

/** KOMBIT's schemas, as the repository keeps them (schemas/kombit/README.md), and our own account of the contract. */
const XSD = fileURLToPath(new URL('../schemas/kombit/SFTPTypes.xsd', import.meta.url));
const PROTOCOL = fileURLToPath(new URL('../docs/protocol.md', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/triggers/', import.meta.url));
const fixture = (name: string): Buffer => readFileSync(FIXTURES + name);

/** xmllint --schema on a document; returns xmllint's complaint, or '' when the document validates. */
function xsdErrors(xml: string | Buffer): string {
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', XSD, '-'], { input: xml, encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint could not run (${r.error.message}); install it: apt-get install libxml2-utils`);
  return r.status === 0 ? '' : r.stderr.trim();
}

/** Valid triggers a client may send. All validate against the XSD but those named in XSD_REJECTS. */
const VALID_FIXTURES = [
  'spec-example.trigger', 'minimal.trigger', 'without-recipient-it-system.trigger', 'with-route-selection-date.trigger', 'with-sha256.trigger',
  'prefix-ns2.trigger', 'prefix-sftp.trigger', 'cdata.trigger', 'extra-xmlns.trigger', 'no-declaration.trigger', 'utf8-bom.trigger',
  'named-recipients.trigger', 'danish-file-name.trigger', 'latin1.trigger',
  'default-namespace.trigger', 'qualified-children.trigger', 'values-over-lines.trigger', 'uppercase-uuids.trigger', 'unknown-elements.trigger',
];
/** Leniency (SPEC §10) beyond what the XSD allows: we read these, KOMBIT's schema would not. */
const XSD_REJECTS: Record<string, RegExp> = {
  'default-namespace.trigger': /FileDescriptor.*not expected/, // children become qualified; the XSD wants them unqualified
  'qualified-children.trigger': /FileDescriptor.*not expected/, // sp:FileDescriptor etc.: the XSD wants unqualified children
  'values-over-lines.trigger': /SizeInBytes|SenderIt-system/, // whitespace around unsignedLong is fine, around a UUID pattern it is not
  'uppercase-uuids.trigger': /SenderIt-system|TransactionId/, // UUIDType is lower-case hex
  'unknown-elements.trigger': /Priority/, // an unknown element inside FileDescriptor
};

const TRANSFER = '47570fc2-be65-4ab1-8da7-3bcc086bfef9';
const SHA = 'a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447';
const RECIPIENT_UUID = '3f2c6d1e-8b7a-4c5d-9e0f-112233445566';

function metadataInput(trigger: Trigger, over: Partial<MetadataInput> = {}): MetadataInput {
  return { transferId: TRANSFER, trigger, deliveredFileName: trigger.fileName, recipientUsername: 'modtager-b', recipientItSystem: RECIPIENT_UUID, sha256: SHA, ...over };
}

beforeAll(() => {
  const r = spawnSync('xmllint', ['--version']);
  if (r.error) throw new Error('xmllint is missing: apt-get install libxml2-utils (.ci/run installs it)');
});

describe('triggers against KOMBIT\'s XSD', () => {
  it.each(VALID_FIXTURES)('%s parses, and validates against SFTPTypes.xsd unless it is a documented leniency', (name) => {
    expect(() => parseTrigger(fixture(name))).not.toThrow();
    const errors = xsdErrors(fixture(name));
    if (XSD_REJECTS[name]) expect(errors).toMatch(XSD_REJECTS[name]!);
    else expect(errors).toBe('');
  });

  it.each(VALID_FIXTURES)('buildTrigger(parseTrigger(%s)) validates and reads back the same', (name) => {
    const trigger = parseTrigger(fixture(name));
    const xml = buildTrigger(trigger);
    expect(xsdErrors(xml)).toBe('');
    expect(parseTrigger(xml)).toEqual(trigger);
  });

  it('the trigger example of docs/protocol.md is fixtures/triggers/spec-example.trigger, and it validates', () => {
    const protocol = readFileSync(PROTOCOL, 'utf8');
    const example = /\n## The trigger\n[\s\S]*?```xml\n([\s\S]*?)```/.exec(protocol)![1]!;
    expect(example.trim()).toBe(fixture('spec-example.trigger').toString('utf8').trim());
    expect(xsdErrors(example)).toBe('');
  });
});

describe('metadata files (SPEC §6)', () => {
  const spec = parseTrigger(fixture('spec-example.trigger'));
  const minimal = parseTrigger(fixture('minimal.trigger'));

  it('validates for every valid trigger, clash name, or none of the optional parts', () => {
    for (const name of VALID_FIXTURES) {
      const t = parseTrigger(fixture(name));
      expect(xsdErrors(buildFileMetadata(metadataInput(t)))).toBe('');
    }
    expect(xsdErrors(buildFileMetadata(metadataInput(minimal, { deliveredFileName: `${minimal.fileName}.${TRANSFER}` })))).toBe('');
    const { sendersFileId: _, ...noId } = minimal;
    expect(xsdErrors(buildFileMetadata(metadataInput(noId)))).toBe('');
  });

  it('writes the SPEC §6 shape: prefixed root, FileTransferUUID, this recipient, its UUID, the platform\'s Sha256', () => {
    const xml = buildFileMetadata(metadataInput({ ...minimal, recipients: ['ROUTING_V1_0_0'] }, { deliveredFileName: `x.csv.${TRANSFER}`, sha256: 'F'.repeat(64) }));
    expect(xml).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<sp:FileMetadata xmlns:sp="http://serviceplatformen.dk/xml/wsdl/soap11/SFTP/1/types">
  <FileTransferUUID>${TRANSFER}</FileTransferUUID>
  <FileDescriptor>
    <FileName>x.csv.${TRANSFER}</FileName>
    <SizeInBytes>1048576</SizeInBytes>
    <Sender>afsender-a</Sender>
    <SendersFileId>6f1c1c0e-6a4e-4e5e-9a53-2b8f7d1a0c11</SendersFileId>
    <Recipients>modtager-b</Recipients>
  </FileDescriptor>
  <FileContentDescriptor>
    <SFTPDynamicRoutingInfo>
      <InfRef>FagsystemdefineredeDataRefGDPR1203_1</InfRef>
      <SenderIt-system>cfcf2769-9a1f-4d3b-b6d2-ddfb3a2f9dd6</SenderIt-system>
      <SenderAuthority>urn:oio:cvr-nr:55133018</SenderAuthority>
      <TransactionId>752bc93a-37cb-46db-9fb1-d5f4f7e3964e</TransactionId>
      <SenderTimestamp>2026-11-22T10:15:00+01:00</SenderTimestamp>
      <RecipientIt-system>${RECIPIENT_UUID}</RecipientIt-system>
      <RecipientAuthority>urn:oio:cvr-nr:55133018</RecipientAuthority>
      <RouteParameterList>
        <RouteParameter>
          <fu:Sha256 xmlns:fu="urn:filudveksling:xml:1">${'f'.repeat(64)}</fu:Sha256>
        </RouteParameter>
      </RouteParameterList>
    </SFTPDynamicRoutingInfo>
  </FileContentDescriptor>
</sp:FileMetadata>
`);
  });

  it('carries the trigger\'s RouteSelectionValueDate as sp:RouteSelectionValueDate before fu:Sha256', () => {
    const xml = buildFileMetadata(metadataInput(spec));
    expect(xml).toMatch(/<RouteParameter>\s*<sp:RouteSelectionValueDate>2026-11-22<\/sp:RouteSelectionValueDate>\s*<\/RouteParameter>\s*<RouteParameter>\s*<fu:Sha256 xmlns:fu="urn:filudveksling:xml:1">a948/);
    expect(xsdErrors(xml)).toBe('');
  });

  it('escapes values: & < > " \' in FileName and SendersFileId validate and read back', () => {
    const t = { ...minimal, fileName: `R&D 'æøå' ]] x.csv`, sendersFileId: `a&b <c> "d"` };
    const xml = buildFileMetadata(metadataInput(t));
    expect(xml).toContain(`<FileName>R&amp;D 'æøå' ]] x.csv</FileName>`);
    expect(xml).toContain('<SendersFileId>a&amp;b &lt;c&gt; &quot;d&quot;</SendersFileId>');
    expect(xsdErrors(xml)).toBe('');
    expect(parseTrigger(buildTrigger(t))).toEqual(t);
  });

  it('legacy shape: ns2:Trigger root, FileTransferUUID first, the same content (readable as a trigger)', () => {
    const xml = buildLegacyMetadata(metadataInput(spec));
    expect(xml).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<ns2:Trigger xmlns:ns2="http:\/\/serviceplatformen\.dk\/xml\/wsdl\/soap11\/SFTP\/1\/types">\n  <FileTransferUUID>47570fc2-be65-4ab1-8da7-3bcc086bfef9<\/FileTransferUUID>\n  <FileDescriptor>/);
    expect(xml).toContain('<ns2:RouteSelectionValueDate>2026-11-22</ns2:RouteSelectionValueDate>');
    expect(parseTrigger(xml)).toEqual({ ...spec, recipients: ['modtager-b'], routing: { ...spec.routing, recipientItSystem: RECIPIENT_UUID, sha256: SHA } });
    // exempt from §10's schema check: KOMBIT's Trigger has no FileTransferUUID
    expect(xsdErrors(xml)).toMatch(/FileTransferUUID/);
  });
});

describe('receipts (SPEC §7)', () => {
  it('writes SUCCESS with and without SendersFileId, valid against the XSD', () => {
    const ok = buildReceipt({ transferId: TRANSFER, sendersFileId: '6f1c1c0e-6a4e-4e5e-9a53-2b8f7d1a0c11', ok: true });
    expect(ok).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<sp:TechnicalReceipt xmlns:sp="http://serviceplatformen.dk/xml/wsdl/soap11/SFTP/1/types">
  <FileTransferUUID>${TRANSFER}</FileTransferUUID>
  <SendersFileId>6f1c1c0e-6a4e-4e5e-9a53-2b8f7d1a0c11</SendersFileId>
  <Receipt>
    <Message>SUCCESS</Message>
  </Receipt>
</sp:TechnicalReceipt>
`);
    expect(xsdErrors(ok)).toBe('');
    expect(xsdErrors(buildReceipt({ transferId: TRANSFER, ok: true }))).toBe('');
  });

  it.each(ERROR_CODE_NAMES)('writes an ErrorMessage for %s that validates', (code) => {
    const xml = buildReceipt({ transferId: TRANSFER, sendersFileId: 'id-1', ok: false, code, text: `${ERROR_CODES[code].description} <&> "quoted" \u0001` });
    expect(xml).toContain(`<ErrorCode>${ERROR_CODES[code].number}</ErrorCode>\n    <ErrorCodeDescription>${code}</ErrorCodeDescription>`);
    expect(xsdErrors(xml)).toBe('');
  });

  it('answers an unparseable trigger with a valid receipt carrying what could be salvaged', () => {
    for (const name of ['malformed-unclosed.trigger', 'billion-laughs.trigger', 'oversize.trigger', 'malformed-not-xml.trigger', 'simple-transfer.trigger']) {
      const raw = fixture(name);
      let error: TriggerError | undefined;
      try {
        parseTrigger(raw);
      } catch (e) {
        error = e as TriggerError;
      }
      expect(error).toBeInstanceOf(TriggerError);
      const xml = buildReceipt({ transferId: TRANSFER, sendersFileId: salvageTriggerFields(raw).sendersFileId, ok: false, code: error!.code, text: error!.message });
      expect(xsdErrors(xml)).toBe('');
    }
  });
});

describe('error codes (SPEC §5)', () => {
  it('are exactly the table of docs/protocol.md: 16 codes with their numbers', () => {
    const table = [...readFileSync(PROTOCOL, 'utf8').matchAll(/^\| (\d{4}) \| `([A-Z_]+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(table).toHaveLength(16);
    expect(ERROR_CODE_NAMES.map((n) => [n, ERROR_CODES[n].number])).toEqual(table);
    expect(errorCodeName(1204)).toBe('ROUTE_MISSING');
    expect(errorCodeName(9999)).toBeUndefined();
  });
});
