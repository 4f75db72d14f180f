import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaErrors } from './helpers/router-world.js';

/** The documentation shows only what is true: its XML validates, its links lead somewhere. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const text = (doc: string) => readFileSync(join(ROOT, doc), 'utf8');

/** The anchors of a document's headings, as GitHub makes them. */
function anchors(doc: string): string[] {
  return [...text(doc).matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
    m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'),
  );
}

/** Every ```xml block of every document, named by its document and first line. */
const XML_EXAMPLES = DOCS.flatMap((doc) => [...text(doc).matchAll(/```xml\n([\s\S]*?)```/g)].map((m, i) => [`${doc} #${i + 1}`, m[1]!] as const));

describe('documentation', () => {
  it('shows the trigger, metadata and both receipts in docs/protocol.md', () => {
    const roots = XML_EXAMPLES.filter(([name]) => name.startsWith('docs/protocol.md')).map(([, xml]) => /<(sp:\w+)/.exec(xml)?.[1]);
    expect(roots).toEqual(['sp:Trigger', 'sp:FileMetadata', 'sp:TechnicalReceipt', 'sp:TechnicalReceipt']);
  });

  it.each(XML_EXAMPLES)('%s validates against KOMBIT\'s schemas', async (_name, xml) => {
    expect(await schemaErrors(xml)).toBe('');
  });

  it.each(DOCS)('%s links only to files and headings that exist', (doc) => {
    const links = [...text(doc).matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)].map((m) => ({ file: m[1]!, anchor: m[2] })).filter((l) => !/^[a-z]+:/.test(l.file));
    const missing = links.filter((l) => {
      const target = l.file ? join(dirname(doc), l.file) : doc;
      if (!existsSync(join(ROOT, target))) return true;
      return l.anchor !== undefined && target.endsWith('.md') && !anchors(target).includes(l.anchor);
    });
    expect(missing).toEqual([]);
  });

  it('docker-compose.yml gives every node the stop grace period docs/operations.md asks for', () => {
    const asked = /`docker stop -t (\d+)`/.exec(text('docs/operations.md'))?.[1];
    expect(asked).toBeDefined();
    // The nodes share one anchor (x-node); compose's own default is 10 s, which cuts the drain short.
    expect(/^x-node: &node\n(?: {2}.*\n)*? {2}stop_grace_period: (\d+)s$/m.exec(text('docker-compose.yml'))?.[1]).toBe(asked);
  });
});
