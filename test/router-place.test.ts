import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { placeDeliveryFile, placeDeliveryMetadata, withdrawUnannounced } from '../src/router/place-delivery.js';
import { placeFileAtomically, writeFileAtomically } from '../src/storage/place-atomically.js';
import { sha256 } from './helpers/router-world.js';

/** Placing files: complete or not at all, never over another file, and idempotent when run again. */
describe('atomic placement', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fu-place-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('hard-links on one filesystem; run again it finds its own link; a stranger under the name is left alone', async () => {
    const source = join(dir, 'spool-copy');
    await writeFile(source, 'payload');
    const target = join(dir, 'delivered.csv');
    expect(await placeFileAtomically(source, target, sha256('payload'))).toBe('placed');
    expect((await stat(target)).ino).toBe((await stat(source)).ino);
    expect(await placeFileAtomically(source, target, sha256('payload'))).toBe('ours');
    // Same bytes, other file: not ours (the same content sent twice is delivered twice).
    const other = join(dir, 'other');
    await writeFile(other, 'payload');
    expect(await placeFileAtomically(other, target, sha256('payload'))).toBe('taken');
    expect((await stat(target)).ino).toBe((await stat(source)).ino);
  });

  it('across filesystems copies to a hidden temp, fsyncs, links, and recognises its own copy by its bytes', async () => {
    const shm = await mkdtemp('/dev/shm/fu-place-');
    try {
      const source = join(shm, 'spool-copy');
      const content = randomBytes(3 * 1024 * 1024 + 17);
      await writeFile(source, content);
      const target = join(dir, 'copied.bin');
      expect(await placeFileAtomically(source, target, sha256(content))).toBe('placed');
      expect(sha256(await readFile(target))).toBe(sha256(content));
      expect(await readdir(dir)).toEqual(['copied.bin']);
      expect(await placeFileAtomically(source, target, sha256(content))).toBe('ours');
      await writeFile(join(dir, 'stranger.bin'), 'not the same');
      expect(await placeFileAtomically(source, join(dir, 'stranger.bin'), sha256(content))).toBe('taken');
      expect(await readFile(join(dir, 'stranger.bin'), 'utf8')).toBe('not the same');
      expect((await readdir(dir)).sort()).toEqual(['copied.bin', 'stranger.bin']);
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });

  it('writes small files without overwriting (identical content counts as ours) or, for receipts, by atomic replace', async () => {
    const target = join(dir, 'x.metadata');
    expect(await writeFileAtomically(target, '<a/>', { replace: false })).toBe('placed');
    expect(await writeFileAtomically(target, '<a/>', { replace: false })).toBe('ours');
    expect(await writeFileAtomically(target, '<b/>', { replace: false })).toBe('taken');
    expect(await readFile(target, 'utf8')).toBe('<a/>');
    expect(await writeFileAtomically(target, '<c/>', { replace: true })).toBe('placed');
    expect(await readFile(target, 'utf8')).toBe('<c/>');
    expect(await readdir(dir)).toEqual(['x.metadata']);
  });

  it('delivers as <name>.<FileTransferUUID> when the name, or only its .metadata, is taken; withdraws what was not announced', async () => {
    const id = '47570fc2-be65-4ab1-8da7-3bcc086bfef9';
    const inbox = join(dir, 'IN', '0751');
    await mkdir(inbox, { recursive: true });
    const spool = join(dir, 'spool-file');
    await writeFile(spool, 'new');
    await writeFile(join(inbox, 'a.csv'), 'old');
    expect(await placeDeliveryFile(spool, inbox, 'a.csv', id, sha256('new'))).toBe(`a.csv.${id}`);
    expect(await placeDeliveryFile(spool, inbox, 'a.csv', id, sha256('new'))).toBe(`a.csv.${id}`);
    expect(await readFile(join(inbox, 'a.csv'), 'utf8')).toBe('old');

    await writeFile(join(inbox, 'b.csv.metadata'), '<left-over/>');
    expect(await placeDeliveryFile(spool, inbox, 'b.csv', id, sha256('new'))).toBe(`b.csv.${id}`);

    expect(await placeDeliveryFile(spool, inbox, 'c.csv', id, sha256('new'))).toBe('c.csv');
    await placeDeliveryMetadata(inbox, 'c.csv', '<m/>');
    await expect(placeDeliveryMetadata(inbox, 'c.csv', '<other/>')).rejects.toThrow(/another file has that name/);

    // c.csv is announced (has metadata) and stays; a.csv.<id> is not and goes.
    expect(await withdrawUnannounced(spool, inbox, 'a.csv', id)).toEqual([join(inbox, `a.csv.${id}`)]);
    expect(await withdrawUnannounced(spool, inbox, 'c.csv', id)).toEqual([]);
    expect(existsSync(join(inbox, 'c.csv'))).toBe(true);
    expect(await readFile(join(inbox, 'a.csv'), 'utf8')).toBe('old');
  });
});
