import { Response } from 'express';

/** Answers with an RFC 9457 problem document. */
export function sendProblem(response: Response, status: number, type: string, title: string, detail: string): void {
  response
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: `urn:upvest-webhook-receiver:problem:${type}`, title, status, detail }));
}
