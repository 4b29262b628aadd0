import { createHash, timingSafeEqual } from 'node:crypto';
import { RequestHandler } from 'express';
import { sendProblem } from './problem';

const BEARER = /^Bearer +(\S+) *$/i;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Compares a presented token with the expected one in constant time. Both are hashed first:
 * timingSafeEqual needs equal lengths, and comparing digests leaks neither the token's length
 * nor how many leading characters matched.
 */
export function tokensMatch(expected: string, presented: string): boolean {
  return timingSafeEqual(sha256(expected), sha256(presented));
}

/** Lets a request through only with `Authorization: Bearer <token>`; anything else is a 401 problem. */
export function requireBearerToken(token: string): RequestHandler {
  // An empty token is a misconfiguration, never a way to turn the check off.
  if (token === '') throw new Error('a bearer token must not be empty');
  return (request, response, next) => {
    // Answers behind a token carry payment data or quarantined content: no cache may keep them.
    response.setHeader('Cache-Control', 'no-store');
    const presented = BEARER.exec(request.get('authorization') ?? '')?.[1];
    if (presented !== undefined && tokensMatch(token, presented)) {
      next();
      return;
    }
    response.setHeader('WWW-Authenticate', presented === undefined ? 'Bearer' : 'Bearer error="invalid_token"');
    sendProblem(response, 401, 'unauthorized', 'Unauthorized', presented === undefined ? 'A bearer token is required.' : 'The bearer token is not valid.');
  };
}
