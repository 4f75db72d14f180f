import type { FastifyRequest } from 'fastify';

/**
 * A multipart form (an SSH key file, a GDPR declaration document) read whole: its text fields and
 * its one file. The portal limits the parts and the file's size (security.ts: 20 MiB, one file);
 * a larger file ends the request with 413. The form's CSRF token travels in the action's query
 * (`?_csrf=`), since the token check runs before the body is read.
 */
export interface MultipartForm {
  fields: Record<string, string>;
  file?: { field: string; filename: string; mimetype: string; data: Buffer };
}

export async function readMultipart(request: FastifyRequest): Promise<MultipartForm> {
  const form: MultipartForm = { fields: {} };
  if (!request.isMultipart()) {
    // The same form posted without a file (a client without multipart): plain fields.
    for (const [k, v] of Object.entries((request.body as Record<string, unknown>) ?? {})) if (typeof v === 'string') form.fields[k] = v;
    return form;
  }
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      const data = await part.toBuffer();
      if (data.length > 0 && !form.file) form.file = { field: part.fieldname, filename: part.filename, mimetype: part.mimetype, data };
    } else if (typeof part.value === 'string') {
      form.fields[part.fieldname] = part.value;
    }
  }
  return form;
}
