import { IncomingMessage } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { RequestBodyError } from './errors';

/** The decoders of the content codings a body may arrive in; identity is read as it is. */
const DECODERS: Record<string, (() => Transform) | undefined> = {
  gzip: createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * The whole body of a request, decoded from its content coding, as one Buffer. Rejects with a
 * RequestBodyError: 413 when it is larger than `limitBytes` (once the rest of it was read and
 * dropped, so that the connection can carry the next request), 415 for a content coding it cannot
 * decode, 400 when it cannot be decoded. A client that goes away mid-body rejects it with the
 * request's own error (Node's parser reads exactly the Content-Length, or fails).
 */
export function readRequestBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const coding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
    const decoder = coding === 'identity' ? undefined : DECODERS[coding];
    if (coding !== 'identity' && decoder === undefined) {
      request.resume();
      reject(new RequestBodyError(415, 'unsupported_content_encoding', `The content encoding "${coding}" is not supported.`));
      return;
    }
    const declared = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length']);
    const stream: Readable = decoder === undefined ? request : request.pipe(decoder());
    const chunks: Buffer[] = [];
    let length = 0;
    // A body declared too large is not kept either: it is read to its end and dropped.
    let tooLarge = decoder === undefined && declared !== undefined && declared > limitBytes;
    stream.on('data', (chunk: Buffer) => {
      length += chunk.length;
      tooLarge ||= length > limitBytes;
      if (!tooLarge) chunks.push(chunk);
    });
    stream.once('end', () => {
      if (tooLarge) reject(new RequestBodyError(413, 'body_too_large', `The body exceeds the limit of ${limitBytes} bytes.`));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length));
    });
    request.once('error', reject);
    if (decoder !== undefined) {
      stream.once('error', () => {
        request.resume();
        reject(new RequestBodyError(400, 'undecodable_body', `The body could not be decoded as ${coding}.`));
      });
    }
  });
}
