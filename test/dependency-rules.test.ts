import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** README's map holds: no import cycles, the SFTP edge apart from the router, domain modules apart from every edge. */
const CHECK = fileURLToPath(new URL('../scripts/check-dependencies.mjs', import.meta.url));

describe('dependency rules of src/ (.dependency-cruiser.cjs)', () => {
  it('hold, with no exception left that nothing needs', () => {
    const r = spawnSync(process.execPath, [CHECK], { encoding: 'utf8', timeout: 120_000 });
    expect({ code: r.status, problems: r.stderr }).toEqual({ code: 0, problems: '' });
  }, 130_000);
});
