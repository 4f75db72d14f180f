#!/usr/bin/env node
// The `filudveksling` command (package.json "bin"; `npx filudveksling …`). It runs the built CLI,
// so it works after any build (`npm run build`, `npm start`, `npm test`) without tsc having to set an
// exec bit on what it writes.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('filudveksling is not built yet: run `npm run build` (or `npm start`) in its folder first.\n');
  process.exit(2);
}
await import(cli.href);
