import express from 'express';
import request from 'supertest';
import { requireBearerToken, tokensMatch } from '../../src/http/bearerAuth';

const TOKEN = 'a-long-enough-admin-token';

describe('tokensMatch', () => {
  it('accepts only the exact token', () => {
    expect(tokensMatch(TOKEN, TOKEN)).toBe(true);
    expect(tokensMatch(TOKEN, `${TOKEN} `)).toBe(false);
    expect(tokensMatch(TOKEN, TOKEN.slice(0, -1))).toBe(false);
    expect(tokensMatch(TOKEN, TOKEN.toUpperCase())).toBe(false);
    expect(tokensMatch(TOKEN, '')).toBe(false);
  });

  it('compares tokens of any length without throwing, as timingSafeEqual would on unequal lengths', () => {
    expect(() => tokensMatch(TOKEN, 'x'.repeat(10000))).not.toThrow();
    expect(tokensMatch('ü-token', 'ü-token')).toBe(true);
  });
});

describe('requireBearerToken', () => {
  const app = express();
  app.use(requireBearerToken(TOKEN));
  app.get('/', (_request, response) => {
    response.json({ ok: true });
  });

  it.each([`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `Bearer  ${TOKEN}`])('lets "%s" through', async (authorization) => {
    const response = await request(app).get('/').set('Authorization', authorization);

    expect(response.status).toBe(200);
  });

  const missing = ['Bearer', 'A bearer token is required.'];
  const invalid = ['Bearer error="invalid_token"', 'The bearer token is not valid.'];
  it.each([
    [undefined, missing],
    ['', missing],
    ['Bearer', missing],
    [`Bearer ${TOKEN} extra`, missing],
    [`Token ${TOKEN}`, missing],
    [TOKEN, missing],
    [`Bearer ${TOKEN}x`, invalid],
    [`Bearer ${TOKEN.toUpperCase()}`, invalid],
  ])('answers 401 for %p', async (authorization, [challenge, detail]) => {
    const call = request(app).get('/');
    const response = await (authorization === undefined ? call : call.set('Authorization', authorization));

    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(challenge);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(response.text)).toEqual({
      type: 'urn:upvest-webhook-receiver:problem:unauthorized',
      title: 'Unauthorized',
      status: 401,
      detail,
    });
  });
});

it('refuses to guard with an empty token, and marks answers as not cacheable', async () => {
  expect(() => requireBearerToken('')).toThrow(/must not be empty/);
  const app = express().use(requireBearerToken(TOKEN), (_request, response) => {
    response.send('in');
  });
  expect((await request(app).get('/').set('Authorization', `Bearer ${TOKEN}`)).headers['cache-control']).toBe('no-store');
  expect((await request(app).get('/')).headers['cache-control']).toBe('no-store');
});
