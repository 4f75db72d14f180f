#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { writeJsonError } from './context.js';
import { registerMigrate } from './commands/migrate.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { registerUsage } from './commands/usage.js';
import { registerAgreement } from './commands/agreement.js';
import { registerAuthority } from './commands/authority.js';
import { registerInfRef } from './commands/infref.js';
import { registerRoute } from './commands/route.js';
import { registerTransfer } from './commands/transfer.js';
import { registerSystemCommands } from './commands/system.js';
import { registerUser } from './commands/user.js';
import { registerVendor } from './commands/vendor.js';
import { registerPrice } from './commands/price.js';
import { registerNotice } from './commands/notice.js';

/** `filudveksling` — the operator CLI (SPEC §8). Each command group registers itself from commands/. */
const program = new Command('filudveksling')
  .description('Route-based SFTP file exchange for municipalities and their IT vendors')
  .option('--json', 'machine-readable output')
  .option('--config <file>', 'a JSON file of settings (environment variables win)')
  .showHelpAfterError('(run with --help to see the usage)')
  .enablePositionalOptions(false)
  .exitOverride();

for (const register of [registerServe, registerMigrate, registerUsage, registerStatus]) register(program);
for (const register of [registerVendor, registerAuthority, registerSystemCommands, registerInfRef, registerRoute, registerAgreement, registerPrice, registerNotice]) register(program);
registerTransfer(program);
registerUser(program);

// `--by <operator>` names who makes a change, for the audit log. It sits on each command that changes
// state rather than on the program, because `usage --by system|authority|infref` (SPEC §8) uses the
// same flag; commands that only read (or run the server) do not offer it.
const READ_ONLY = new Set(['list', 'show', 'status', 'serve', 'document', 'invoice']);
(function addOperatorOption(command: Command): void {
  for (const sub of command.commands) {
    if (sub.commands.length > 0) addOperatorOption(sub);
    else if (!READ_ONLY.has(sub.name()) && !sub.options.some((o) => o.long === '--by')) {
      sub.option('--by <operator>', 'who makes the change, for the audit log (default: the OS user)');
    }
  }
})(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; everything else commander refuses is bad usage (exit 2). Commander has
    // printed its message on stderr; with --json the error goes on stdout too, as for every other error.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    if (process.exitCode !== 0 && (program.opts<{ json?: boolean }>().json || process.argv.slice(2).includes('--json'))) {
      writeJsonError(commanderMessage(err), process.exitCode);
    }
  } else {
    throw err;
  }
}

/** Commander's message without its "error: " prefix, saying where the usage is; a group run without a command shows its help instead. */
function commanderMessage(err: CommanderError): string {
  if (err.code === 'commander.help') return 'A command is missing; the usage on stderr lists them (or run with --help).';
  return `${err.message.replace(/^error: /, '')} (run with --help to see the usage)`;
}
