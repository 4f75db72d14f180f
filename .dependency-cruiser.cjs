/**
 * The dependency rules of src/ (README "Where things are"), checked by `npm test`
 * (test/dependency-rules.test.ts runs scripts/check-dependencies.mjs).
 *
 * dependency-cruiser's own CLI wants Node 22+; scripts/check-dependencies.mjs calls its API with this
 * file, which works on the Node 20 we run on.
 */

/**
 * TEMPORARY exceptions (add one only with its cause and who removes it). The check fails on an
 * exception that no longer matches anything, so none can outlive its cause. The two known when the
 * rules landed went with the router redesign (intake moved to src/router/intake; the
 * receive-trigger ↔ route-transfer cycle is gone).
 */
const KNOWN_CYCLE_MODULES = [];
const KNOWN_TRIGGERS_TO_ROUTER = [];

const DOMAIN = '^src/(systems|infref|routes|agreements|authority)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles: each module can be read (and tested) after the ones it imports.',
      from: { pathNot: KNOWN_CYCLE_MODULES },
      to: { circular: true },
    },
    {
      name: 'sftp-not-router',
      severity: 'error',
      comment: 'src/sftp is the protocol edge: it knows SFTP, not routing (it announces uploads; the router listens).',
      from: { path: '^src/sftp/' },
      to: { path: '^src/router/' },
    },
    {
      name: 'triggers-not-router',
      severity: 'error',
      comment: 'src/triggers is the XML contract; intake (watcher, scans, queueing) belongs to the routing stage.',
      from: { path: '^src/triggers/', pathNot: KNOWN_TRIGGERS_TO_ROUTER },
      to: { path: '^src/router/' },
    },
    {
      name: 'domain-not-edges',
      severity: 'error',
      comment: 'Domain modules are the core both edges call: they import neither the CLI, the SFTP edge nor the portal.',
      from: { path: DOMAIN },
      to: { path: '^src/(cli|sftp|portal)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
  /** Read by scripts/check-dependencies.mjs: the exception lists above, to refuse stale ones. */
  knownExceptions: { cycles: KNOWN_CYCLE_MODULES, triggersToRouter: KNOWN_TRIGGERS_TO_ROUTER },
};
