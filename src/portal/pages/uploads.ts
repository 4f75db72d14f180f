import type { FastifyRequest } from 'fastify';
import { isOversized, type OversizedFile, type UploadedFile } from '../security.js';

/**
 * A form that may carry a file (an SSH key file, a GDPR declaration document): its text fields and
 * its one file. The portal attaches multipart fields to the body like any form's and a file as an
 * UploadedFile (security.ts: one file, 20 MiB); a larger one is `oversized` — only its name is
 * known, and the page refuses it naming it (413), with the form's other fields as they were typed.
 */
export interface UploadForm {
  fields: Record<string, string>;
  file?: UploadedFile;
  oversized?: OversizedFile;
}

export function uploadForm(request: FastifyRequest, fileField: string): UploadForm {
  const form: UploadForm = { fields: {} };
  for (const [k, v] of Object.entries((request.body as Record<string, unknown> | undefined) ?? {})) {
    if (typeof v === 'string') form.fields[k] = v;
    else if (k === fileField && isOversized(v)) form.oversized = v;
    else if (k === fileField && isFile(v) && v.data.length > 0) form.file = v;
  }
  return form;
}

function isFile(v: unknown): v is UploadedFile {
  return typeof v === 'object' && v !== null && Buffer.isBuffer((v as UploadedFile).data) && typeof (v as UploadedFile).filename === 'string';
}
