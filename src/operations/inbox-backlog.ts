import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { METADATA_SUFFIX, RECEIPT_SUFFIX, dataLayout } from '../storage/homes.js';

/**
 * What recipients have not fetched yet: per system, the delivered data files still in its IN
 * folders and the age of the oldest. A receiving system that stopped polling is the failure
 * operators most need to see. Read from the folders themselves, the truth of what is waiting.
 */
export interface InboxBacklog {
  system: string;
  files: number;
  oldestSeconds: number;
}

export async function inboxBacklog(dataDir: string, now = Date.now()): Promise<InboxBacklog[]> {
  const homes = dataLayout(dataDir).homes;
  const result: InboxBacklog[] = [];
  for (const system of await listDirs(homes)) {
    const inDir = join(homes, system, 'IN');
    let files = 0;
    let oldest = now;
    const visit = async (dir: string, depth: number) => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (entry.isDirectory() && depth === 0) await visit(join(dir, entry.name), 1);
        if (!entry.isFile() || entry.name.startsWith('.')) continue;
        if (entry.name.endsWith(METADATA_SUFFIX) || (depth === 0 && entry.name.endsWith(RECEIPT_SUFFIX))) continue;
        const s = await stat(join(dir, entry.name)).catch(() => undefined);
        if (!s) continue;
        files += 1;
        oldest = Math.min(oldest, s.mtimeMs);
      }
    };
    await visit(inDir, 0);
    if (files > 0) result.push({ system, files, oldestSeconds: Math.max(0, Math.round((now - oldest) / 1000)) });
  }
  return result.sort((a, b) => b.oldestSeconds - a.oldestSeconds);
}

async function listDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}
