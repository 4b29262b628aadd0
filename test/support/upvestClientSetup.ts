import crypto from 'node:crypto';
import { loadConfig, type UpvestApiConfig } from '../../src/config/config';
import { createLogger, type Logger } from '../../src/logging/logger';
import { UpvestApi } from '../../src/provider/UpvestApi';
import { UpvestApiClient } from '../../src/provider/UpvestApiClient';
import { generateKeyPair, type KeyPair, type KeyPairAlgorithm, type SigningKey, VerificationKeySet } from '../../src/signature';
import { FakeUpvest } from './fakeUpvest';
import { startFakeUpvestTenant } from './fakeUpvestTenant';

/** A fresh key pair in the forms tests need: the private key to sign with and the public JWKS to verify with. */
export interface TestKey extends SigningKey {
  jwks: KeyPair['jwks'];
  keys: VerificationKeySet;
}

export function testKey(algorithm: KeyPairAlgorithm = 'p521'): TestKey {
  const pair = generateKeyPair(algorithm);
  return { kid: pair.kid, privateKey: crypto.createPrivateKey(pair.privateKeyPem), jwks: pair.jwks, keys: VerificationKeySet.fromJwks(pair.jwks) };
}

/** One request the client sent through fetch, and the answer it got. */
export interface Exchange {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  status: number;
  /** The answer's upvest-request-id header. */
  requestId: string | null;
}

export interface UpvestClientSetup {
  fake: FakeUpvest;
  config: UpvestApiConfig;
  client: UpvestApiClient;
  api: UpvestApi;
  logger: Logger;
  /** Everything the client sent over the wire, in order; recorded by wrapping the global fetch. */
  exchanges: Exchange[];
  close(): Promise<void>;
}

/**
 * An UpvestApiClient configured (through loadConfig, as the service does) for a fake Upvest API
 * tenant, with small delays so that retries are fast; `overrides` replace any of the settings.
 */
export async function startUpvestClient(overrides: Partial<UpvestApiConfig> = {}): Promise<UpvestClientSetup> {
  const tenant = await startFakeUpvestTenant();
  const loaded = loadConfig(tenant.environment).upvestApi;
  if (loaded === undefined) throw new Error('the fake tenant environment configures no Upvest API');
  const config: UpvestApiConfig = { ...loaded, timeoutMs: 2000, maxRetries: 3, retryBaseDelayMs: 20, retryMaxDelayMs: 200, requestsPerSecond: 1000, ...overrides };
  const logger = createLogger('error', true);
  const client = new UpvestApiClient({ ...config, logger });

  const exchanges: Exchange[] = [];
  const realFetch = globalThis.fetch;
  const fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const exchange: Exchange = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: init?.body === undefined || init.body === null ? '' : Buffer.from(init.body as Uint8Array).toString('utf8'),
      status: 0,
      requestId: null,
    };
    exchanges.push(exchange);
    const response = await realFetch(input, init);
    exchange.status = response.status;
    exchange.requestId = response.headers.get('upvest-request-id');
    return response;
  });

  return {
    fake: tenant.fake,
    config,
    client,
    api: new UpvestApi(client),
    logger,
    exchanges,
    close: async () => {
      fetchSpy.mockRestore();
      await tenant.fake.close();
    },
  };
}
