import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { action } from '../context.js';
import { table } from '../output.js';

/** `infref issue | declaration | new-version | revoke | list | show` (SPEC §8). */
export function registerInfRef(program: Command): void {
  const infref = program.command('infref').description('InfRefs (data classifications) and their GDPR declarations');

  infref
    .command('issue')
    .description('issue a new InfRef number to a sending system; prints FagsystemdefineredeDataRefGDPR<n>_1')
    .requiredOption('--owner <system>', 'the sending system that owns it')
    .option('--title <text>', 'what data it classifies')
    .action(
      action(async (ctx, opts: { owner: string; title?: string }) => {
        const { issueInfRef } = await import('../../infref/issue-infref.js');
        const db = await ctx.db();
        const i = await issueInfRef(db.pool, opts, ctx.by);
        // stdout is just the name, so scripts can take it: INFREF=$(filudveksling infref issue …)
        ctx.out.result(i, i.name);
        ctx.out.note(`Issued ${i.name} to '${i.owner}'. It carries data once its GDPR declaration is approved: 'filudveksling infref declaration ${i.name} --received', then '--approve'.`);
      }),
    );

  infref
    .command('import <infref>')
    .description('register an InfRef KOMBIT already issued (FagsystemdefineredeDataRefGDPR<n>_<v>), keeping its number; issue continues above the highest')
    .requiredOption('--owner <system>', 'the sending system that owns it')
    .option('--title <text>', 'what data it classifies')
    .action(
      action(async (ctx, name: string, opts: { owner: string; title?: string }) => {
        const { importInfRef } = await import('../../infref/import-infref.js');
        const db = await ctx.db();
        const i = await importInfRef(db.pool, { name, ...opts }, ctx.by);
        ctx.out.result(i, i.name);
        ctx.out.note(`Registered ${i.name} for '${i.owner}'. It carries data once its GDPR declaration is approved: 'filudveksling infref declaration ${i.name} --received', then '--approve'.`);
      }),
    );

  infref
    .command('declaration <infref>')
    .description('record the GDPR declaration: --received, then --approve or --reject --reason')
    .option('--received', 'the declaration was received (awaits a decision)')
    .option('--document <file>', 'with --received: the declaration document, at most 20 MiB (kept whole for operators, with its name, type, size and SHA-256)')
    .option('--approve', 'approve the received declaration: the InfRef may carry data')
    .option('--reject', 'reject the received declaration (needs --reason)')
    .option('--reason <text>', 'why (required with --reject)')
    .action(
      action(async (ctx, name: string, opts: { received?: boolean; document?: string; approve?: boolean; reject?: boolean; reason?: string }) => {
        const { decideDeclaration, receiveDeclaration } = await import('../../infref/declaration.js');
        const chosen = [opts.received && '--received', opts.approve && '--approve', opts.reject && '--reject'].filter(Boolean);
        if (chosen.length !== 1) throw new UsageError(`Give exactly one of --received, --approve or --reject --reason "…" (got ${chosen.length ? chosen.join(' ') : 'none'}).`);
        if (opts.document !== undefined && !opts.received) throw new UsageError('--document goes with --received.');
        const { documentFromFile } = await import('../../infref/declaration-document.js');
        const document = opts.document === undefined ? undefined : await documentFromFile(opts.document);
        const db = await ctx.db();
        if (opts.received) {
          const d = await receiveDeclaration(db.pool, name, document, ctx.by);
          ctx.out.result(d, `Recorded the GDPR declaration for ${d.infref} as received${d.documentName ? ` (document ${d.documentName}, ${d.documentSize} bytes, SHA-256 ${d.documentSha256})` : ''}; it awaits --approve or --reject.`);
          return;
        }
        const d = await decideDeclaration(db.pool, name, opts.approve ? 'approve' : 'reject', opts.reason, ctx.by);
        ctx.out.result(
          d,
          opts.approve
            ? `Approved the GDPR declaration for ${d.infref}: it may carry data now.${d.superseded.length ? ` Superseded: ${d.superseded.join(', ')}.` : ''}`
            : `Rejected the GDPR declaration for ${d.infref} (${d.reason}); it carries no data. Record a corrected one with --received.`,
        );
      }),
    );

  infref
    .command('document <infref>')
    .description('write the declaration document last received for an InfRef version to a file')
    .requiredOption('--output <file>', 'where to write it (a new file)')
    .action(
      action(async (ctx, name: string, opts: { output: string }) => {
        const { readDeclarationDocument } = await import('../../infref/declaration.js');
        const { writeFile } = await import('node:fs/promises');
        const db = await ctx.db();
        const doc = await readDeclarationDocument(db.pool, name);
        await writeFile(opts.output, doc.data, { flag: 'wx', mode: 0o600 }).catch((err: NodeJS.ErrnoException) => {
          throw new UsageError(err.code === 'EEXIST' ? `--output '${opts.output}' already exists; give a new file name.` : `Cannot write --output '${opts.output}': ${err.code ?? err.message}.`);
        });
        const { data: _bytes, ...facts } = doc;
        ctx.out.result({ ...facts, output: opts.output }, `Wrote ${doc.name} (${doc.contentType}, ${doc.size} bytes, SHA-256 ${doc.sha256}, received by ${doc.uploadedBy}) to ${opts.output}.`);
      }),
    );

  infref
    .command('new-version <infref>')
    .description('make <n>_<v+1>; the old version works until the new one\'s declaration is approved')
    .action(
      action(async (ctx, name: string) => {
        const { newInfRefVersion } = await import('../../infref/new-version.js');
        const db = await ctx.db();
        const i = await newInfRefVersion(db.pool, name, ctx.by);
        ctx.out.result(i, i.name);
        ctx.out.note(`Made ${i.name}. ${i.previous} keeps carrying data until the declaration of ${i.name} is approved; routes for InfRef ${i.number} carry over.`);
      }),
    );

  infref
    .command('revoke <infref>')
    .description('revoke an InfRef version: it carries no more data')
    .option('--reason <text>', 'why (required)')
    .action(
      action(async (ctx, name: string, opts: { reason?: string }) => {
        const { revokeInfRef } = await import('../../infref/revoke-infref.js');
        const db = await ctx.db();
        const r = await revokeInfRef(db.pool, name, opts.reason, ctx.by);
        ctx.out.result({ ...r, status: 'revoked', reason: opts.reason }, `Revoked ${r.name}: triggers naming it are refused with INFREF_REVOKED.`);
      }),
    );

  infref
    .command('list')
    .description('list InfRefs (every version)')
    .option('--owner <system>', "only this system's")
    .action(
      action(async (ctx, opts: { owner?: string }) => {
        const { listInfRefs } = await import('../../infref/list-infrefs.js');
        const db = await ctx.db();
        const rows = await listInfRefs(db.pool, opts);
        ctx.out.result(rows, () =>
          table(rows, [
            { header: 'INFREF', value: (r) => r.name },
            { header: 'OWNER', value: (r) => r.owner },
            { header: 'STATUS', value: (r) => r.status },
            { header: 'DECLARATION', value: (r) => r.declarationStatus },
            { header: 'TITLE', value: (r) => r.title },
          ], "No InfRefs yet; issue one with 'filudveksling infref issue --owner <system>'."),
        );
      }),
    );

  infref
    .command('show <infref>')
    .description('an InfRef version with its declaration, other versions and routes')
    .action(
      action(async (ctx, name: string) => {
        const { showInfRef } = await import('../../infref/list-infrefs.js');
        const db = await ctx.db();
        const i = await showInfRef(db.pool, name);
        const d = i.declaration;
        ctx.out.result(i, () =>
          [
            `InfRef       ${i.name}`,
            `Owner        ${i.owner}`,
            `Title        ${i.title ?? '-'}`,
            `Status       ${i.status}${i.statusReason ? ` (${i.statusReason})` : ''}`,
            `Declaration  ${d ? `${d.status}, received ${d.receivedAt.toISOString().slice(0, 10)} by ${d.receivedBy}${d.decidedBy ? `, decided by ${d.decidedBy}` : ''}${d.reason ? ` (${d.reason})` : ''}${d.documentName ? `, document ${d.documentName} SHA-256 ${d.documentSha256}` : ''}` : 'none received'}`,
            '',
            'Versions',
            table(i.versions, [
              { header: 'INFREF', value: (v) => v.name },
              { header: 'STATUS', value: (v) => v.status },
              { header: 'DECLARATION', value: (v) => v.declarationStatus },
            ]),
            '',
            `Routes for InfRef ${i.number}`,
            table(i.routes, [
              { header: 'ID', value: (r) => r.id, align: 'right' },
              { header: 'SENDER', value: (r) => r.sender },
              { header: 'RECIPIENT', value: (r) => r.recipient },
              { header: 'AUTHORITY', value: (r) => r.authority },
              { header: 'FROM', value: (r) => r.validFrom },
              { header: 'TO', value: (r) => r.validTo },
            ], "None; add one with 'filudveksling route add'."),
          ].join('\n'),
        );
      }),
    );
}
