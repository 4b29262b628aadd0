import { randomUUID } from 'node:crypto';
import { NextFunction, Request, Response } from 'express';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the ingress's request id when it is a plain token, else makes one; echoes it back. */
export function assignRequestId(request: Request, response: Response, next: NextFunction): void {
  const incoming = request.get('x-request-id');
  const requestId = incoming !== undefined && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  response.locals.requestId = requestId;
  response.setHeader('x-request-id', requestId);
  next();
}

export function requestIdOf(response: Response): string {
  return response.locals.requestId as string;
}
