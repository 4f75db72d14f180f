import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaErrors } from './helpers/router-world.js';

/** The documentation shows only what is true: its XML validates, its links lead somewhere. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const text = (doc: string) => readFileSync(join(ROOT, doc), 'utf8');

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

  it.each(DOCS)('%s links only to files that exist', (doc) => {
    const targets = [...text(doc).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t));
    const missing = targets.filter((t) => !existsSync(join(ROOT, dirname(doc), t)));
    expect(missing).toEqual([]);
  });
});
