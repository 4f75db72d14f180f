import { cli } from './helpers/cli.js';

/**
 * With --json every error is `{"error": "…", "exitCode": n}` on stdout — also the usage errors that
 * commander itself reports (missing required option or argument, unknown option or command, a value
 * outside its choices), which stop before any command runs. The plain message stays on stderr.
 * None of these reach a database, so DATABASE_URL points nowhere.
 */
const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' };

describe('--json usage errors reported by commander', () => {
  it.each([
    [['authority', 'add', '29190623', '--json'], /required option '--name <name>' not specified/],
    [['vendor', 'add', '--json'], /missing required argument 'name'/],
    [['vendor', 'list', '--bogus', '--json'], /unknown option '--bogus'/],
    [['--json', 'vendor', 'list', '--bogus'], /unknown option '--bogus'/],
    [['--bogus', '--json'], /unknown option '--bogus'/],
    [['usage', '--by', 'month', '--json'], /argument 'month' is invalid\. Allowed choices are system, authority, infref/],
    [['serve', '--role', 'everything', '--json'], /argument 'everything' is invalid\. Allowed choices are all, sftp, router/],
    [['transfer', 'list', '--status', 'lost', '--json'], /argument 'lost' is invalid/],
    [['nosuch', '--json'], /unknown command 'nosuch'/],
    [['vendor', '--json'], /A command is missing/],
  ])('%j prints {"error", "exitCode": 2} on stdout and exits 2', async (args, message) => {
    const r = await cli(args, env);
    expect(r.code).toBe(2);
    expect(r.json()).toEqual({ error: expect.stringMatching(message), exitCode: 2 });
    expect(r.json().error).not.toMatch(/^error: /);
    expect(r.stderr).not.toBe('');
  });

  it('without --json, prints the message on stderr only (stdout empty), exit 2', async () => {
    const r = await cli(['authority', 'add', '29190623'], env);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/error: required option '--name <name>' not specified/);
  });

  it('has the same shape as an error a command reports itself', async () => {
    const r = await cli(['infref', 'declaration', 'FagsystemdefineredeDataRefGDPR1_1', '--json'], env);
    expect(r.code).toBe(2);
    expect(r.json()).toEqual({ error: expect.stringMatching(/Give exactly one of --received, --approve or --reject/), exitCode: 2 });
  });

  it('--help with --json still prints the help and exits 0', async () => {
    const r = await cli(['vendor', 'add', '--help', '--json'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: filudveksling vendor add \[options\] <name>/);
  });
});
