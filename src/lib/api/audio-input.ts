import { ApiError, badRequest } from './errors';
import { decodeBase64Field, parseJson, readBodyBytes, tooLarge } from './http';

export interface AudioUpload {
  bytes: Uint8Array;
  mime?: string;
  name?: string;
  /** Other fields that came with it (multipart text fields or JSON members). */
  fields: Record<string, unknown>;
}

/**
 * Takes audio however callers send it: raw bytes (`audio/*`, `application/octet-stream`), multipart with
 * a file field, or JSON with base64 / data-URL audio under `jsonField`. Sizes are checked before decoding.
 */
export async function readAudioUpload(
  request: Request,
  opts: { fileField: string; jsonField: string; limit: number },
): Promise<AudioUpload> {
  const ct = (request.headers.get('Content-Type') ?? '').toLowerCase();
  if (ct.startsWith('multipart/form-data')) {
    const declared = Number(request.headers.get('Content-Length') ?? NaN);
    if (Number.isFinite(declared) && declared > opts.limit + 64 * 1024)
      throw tooLarge(opts.limit, opts.fileField);
    let form: FormData;
    try {
      form = await request.formData();
    } catch {
      throw badRequest('The multipart body could not be read.', { field: 'body' });
    }
    const file = form.get(opts.fileField);
    if (!file || typeof file === 'string')
      throw badRequest(`${opts.fileField}: a file is required in the multipart body.`, {
        field: opts.fileField,
      });
    if (file.size > opts.limit) throw tooLarge(opts.limit, opts.fileField);
    if (file.size === 0) throw badRequest(`${opts.fileField}: the file is empty.`, { field: opts.fileField });
    const fields: Record<string, unknown> = {};
    for (const [k, v] of form) if (typeof v === 'string') fields[k] = v;
    return {
      bytes: new Uint8Array(await file.arrayBuffer()),
      mime: file.type || undefined,
      name: file.name,
      fields,
    };
  }
  if (ct.startsWith('audio/') || ct.startsWith('video/') || ct.startsWith('application/octet-stream')) {
    const bytes = await readBodyBytes(request, opts.limit);
    if (bytes.byteLength === 0) throw badRequest('The audio body is empty.', { field: 'body' });
    return { bytes, mime: ct.startsWith('application/') ? undefined : ct.split(';')[0], fields: {} };
  }
  if (ct === '' || ct.startsWith('application/json')) {
    // base64 is 4/3 of the bytes it carries.
    const raw = parseJson(await readBodyBytes(request, Math.ceil((opts.limit * 4) / 3) + 64 * 1024));
    if (!raw || typeof raw !== 'object' || Array.isArray(raw))
      throw badRequest('The body must be a JSON object.', { field: 'body' });
    const obj = raw as Record<string, unknown>;
    const v = obj[opts.jsonField];
    if (typeof v !== 'string')
      throw badRequest(`${opts.jsonField}: expected base64 audio or a data URL (string).`, {
        field: opts.jsonField,
      });
    const mime = v.startsWith('data:') ? v.slice(5, v.indexOf(';')) || undefined : undefined;
    return { bytes: decodeBase64Field(v, opts.jsonField, opts.limit), mime, fields: obj };
  }
  throw new ApiError(
    'unsupported_media_type',
    `Send audio as multipart/form-data, as raw audio bytes, or as JSON with base64 in "${opts.jsonField}"; got ${ct.split(';')[0]}.`,
  );
}
