import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository stands alone: a clone of it, with nothing beside it, builds, runs and passes its tests. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SKIP = new Set(['node_modules', 'dist', '.git', 'data', 'coverage']);

/** Every file of the repository (what a clone holds, plus what a run left in it), but installed and built ones. */
function repositoryFiles(dir = ROOT): string[] {
  const files: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('.walkthrough-')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) files.push(...repositoryFiles(path));
    else if (e.isFile()) files.push(path);
  }
  return files;
}

describe('the repository stands alone', () => {
  it('reads and links nothing in a shared folder beside it', () => {
    const beside = ['..', 'shared'].join('/'); // spelled in two parts, so that this file does not find itself
    const files = repositoryFiles();
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.filter((f) => statSync(f).size < 5_000_000 && readFileSync(f, 'latin1').includes(beside)).map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('keeps its own copy of KOMBIT\'s schemas, with their origin', () => {
    const readme = readFileSync(join(ROOT, 'schemas/kombit/README.md'), 'utf8');
    expect(readme).toContain('ServiceContract-SFTP-20230926');
    expect(readdirSync(join(ROOT, 'schemas/kombit')).filter((f) => f.endsWith('.xsd')).sort()).toEqual(['RouteParameters.xsd', 'SFTPDynamicRoutingInfo.xsd', 'SFTPTypes.xsd']);
  });

  it('preloads exactly the 98 municipalities of migrations/data/municipalities-cvr.tsv', () => {
    const tsv = readFileSync(join(ROOT, 'migrations/data/municipalities-cvr.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t').slice(0, 3));
    const sql = [...readFileSync(join(ROOT, 'migrations/002_municipalities.sql'), 'utf8').matchAll(/\('(\d{4})', '([^']+)', '(\d{8})', '\1'\)/g)].map((m) => [m[1], m[2], m[3]]);
    expect(tsv).toHaveLength(98);
    expect(sql).toEqual(tsv);
  });

  it('has a committed, executable launcher for `npx filudveksling`', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ filudveksling: 'bin/filudveksling.js' });
    const launcher = join(ROOT, pkg.bin.filudveksling!);
    expect(() => accessSync(launcher, constants.X_OK)).not.toThrow();
    expect(readFileSync(launcher, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });
});
