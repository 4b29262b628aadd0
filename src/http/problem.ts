import { Response } from 'express';

/** Answers with an RFC 9457 problem document. */
export function sendProblem(response: Response, status: number, type: string, title: string, detail: string): void {
  response
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: `urn:upvest-webhook-receiver:problem:${type}`, title, status, detail }));
}

/** 503 with Retry-After: our side cannot take the request now, and a retry will succeed. */
export function sendRetryLater(response: Response, retryAfterSeconds: number, type: string, title: string, detail: string): void {
  response.setHeader('Retry-After', String(retryAfterSeconds));
  sendProblem(response, 503, type, title, detail);
}
