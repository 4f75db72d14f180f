/**
 * A file field of a multipart form, whichever way the portal attaches multipart fields to the body:
 * as plain values (`attachFieldsToBody: 'keyValues'`: a Buffer) or as field objects
 * (`attachFieldsToBody: true`: `{ type: 'file', filename, mimetype, toBuffer() }`).
 */
export interface Uploaded {
  data: Buffer;
  filename: string | undefined;
  mimetype: string | undefined;
}

export async function uploaded(body: unknown, name: string): Promise<Uploaded | undefined> {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  if (v === undefined || v === null) return undefined;
  if (Buffer.isBuffer(v)) return v.length ? { data: v, filename: undefined, mimetype: undefined } : undefined;
  const part = v as { type?: string; filename?: string; mimetype?: string; toBuffer?: () => Promise<Buffer>; _buf?: Buffer };
  if (part.type === 'file' && typeof part.toBuffer === 'function') {
    const data = part._buf ?? (await part.toBuffer());
    return data.length ? { data, filename: part.filename || undefined, mimetype: part.mimetype } : undefined;
  }
  return undefined;
}

export async function uploadedText(body: unknown, name: string): Promise<string | undefined> {
  return (await uploaded(body, name))?.data.toString('utf8');
}
