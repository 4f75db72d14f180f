import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Queryable } from '../db/pool.js';
import { RefusedError, UsageError } from '../errors.js';

/** The largest declaration document kept (SPEC §11, issue 9): 20 MiB. */
export const MAX_DOCUMENT_BYTES = 20 * 1024 * 1024;

/** A document as it arrives: from an upload (the portal) or a file (the CLI). */
export interface DocumentInput {
  name: string;
  contentType?: string;
  data: Buffer;
}

/** What is kept besides the bytes, and shown to whoever sees the declaration. */
export interface DocumentFacts {
  name: string;
  contentType: string;
  size: number;
  sha256: string;
}

/**
 * The document as it will be kept: a plain file name (a browser may send a whole path; control and
 * bidirectional-formatting characters go), a content type of the form type/subtype (else
 * application/octet-stream), not empty, at most 20 MiB. Bad input is refused naming the value.
 */
export function checkDocument(doc: DocumentInput): DocumentFacts & { data: Buffer } {
  const name = documentName(doc.name);
  if (doc.data.length === 0) throw new UsageError(`The declaration document '${name}' is empty; give the signed declaration.`, { code: 'declaration-document-empty', values: { name } });
  if (doc.data.length > MAX_DOCUMENT_BYTES) throw documentTooBig(doc.name, doc.data.length);
  const type = doc.contentType?.trim().toLowerCase();
  const contentType = type && /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(type) ? type : typeFromName(name);
  return { name, contentType, size: doc.data.length, sha256: createHash('sha256').update(doc.data).digest('hex'), data: doc.data };
}

/** The name a document is kept under: the file's own name, without a path, control or bidirectional-formatting characters. */
export function documentName(given: string): string {
  // eslint-disable-next-line no-control-regex
  return basename(given.replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim().slice(0, 200) || 'declaration';
}

/**
 * The refusal of a document over 20 MiB, naming it (as documentName keeps it) and its size. The size
 * is unknown (left out) when an upload was cut at the limit — the portal reads no further than 20 MiB
 * (security.ts) — and the refusal then says "over 20 MiB" rather than a made-up number.
 */
export function documentTooBig(given: string, size?: number): UsageError {
  const name = documentName(given);
  const what = size === undefined ? 'is over the limit of 20 MiB' : `is ${mib(size)}; the limit is 20 MiB`;
  return new UsageError(`The declaration document '${name}' ${what}. Give a smaller file (e.g. a PDF without scanned images at full resolution).`, {
    code: 'declaration-document-too-big',
    values: size === undefined ? { name } : { name, size },
  });
}

/** The CLI's `--document <file>`: read, refusing a file over the limit before reading it. */
export async function documentFromFile(file: string): Promise<DocumentInput> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size, isFile } = await handle.stat().then((s) => ({ size: s.size, isFile: s.isFile() }));
      if (!isFile) throw new RefusedError(`The declaration document '${file}' is not a file; give the path of the signed declaration.`);
      if (size > MAX_DOCUMENT_BYTES) throw new UsageError(`The declaration document '${file}' is ${mib(size)}; the limit is 20 MiB. Give a smaller file.`);
      return { name: basename(file), data: await handle.readFile() };
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof RefusedError || err instanceof UsageError) throw err;
    throw new RefusedError(`Cannot read the declaration document '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Give the path of the signed declaration, or leave --document out.`);
  }
}

/** Keeps the bytes; the caller records the declaration in the same transaction. */
export async function storeDocument(db: Queryable, infrefId: number, doc: DocumentFacts & { data: Buffer }, by: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO declaration_documents (infref_id, name, content_type, size_bytes, sha256, content, uploaded_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [infrefId, doc.name, doc.contentType, doc.size, doc.sha256, doc.data, by],
  );
  return rows[0]!.id;
}

export interface StoredDocument extends DocumentFacts {
  data: Buffer;
  uploadedBy: string;
  uploadedAt: Date;
}

/** The document the InfRef version's declaration was last received with (operators only: the edge asks can()). */
export async function findDeclarationDocument(db: Queryable, infrefId: number): Promise<StoredDocument | undefined> {
  const { rows } = await db.query<StoredDocument>(
    `SELECT d.name, d.content_type AS "contentType", d.size_bytes AS size, d.sha256, d.content AS data, d.uploaded_by AS "uploadedBy", d.uploaded_at AS "uploadedAt"
       FROM gdpr_declarations g JOIN declaration_documents d ON d.id = g.document_id WHERE g.infref_id = $1`,
    [infrefId],
  );
  return rows[0];
}

/** Rounded up: a size over the limit never reads as the limit itself (20 MiB and 1 byte is '20.1 MiB', not '20.0 MiB'). */
function mib(bytes: number): string {
  return `${(Math.ceil((bytes / 1024 / 1024) * 10) / 10).toFixed(1)} MiB`;
}

const TYPES: Record<string, string> = { '.pdf': 'application/pdf', '.txt': 'text/plain', '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg' };
function typeFromName(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}
