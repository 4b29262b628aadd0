import { generateKeyPair } from '../../src/signature';
import { FakeUpvest } from './fakeUpvest';

export interface FakeUpvestTenant {
  fake: FakeUpvest;
  /** The service's (and the CLI's) environment variables for this tenant's API credentials. */
  environment: Record<string, string>;
}

/** A fake Upvest API with one tenant registered, and the environment that configures our side for it. */
export async function startFakeUpvestTenant(overrides: Record<string, string> = {}): Promise<FakeUpvestTenant> {
  const tenantKeys = generateKeyPair('p521');
  const clientId = '363f3305-7ab0-4e82-a158-f9d382ad08b6';
  const clientSecret = 'tenant-secret-do-not-log';
  const fake = await FakeUpvest.start({ clientId, clientSecret, clientJwks: tenantKeys.jwks });
  return {
    fake,
    environment: {
      UPVEST_BASE_URL: fake.baseUrl,
      UPVEST_CLIENT_ID: clientId,
      UPVEST_CLIENT_SECRET: clientSecret,
      UPVEST_SIGNING_KEY: tenantKeys.privateKeyPem,
      UPVEST_SIGNING_KEY_ID: tenantKeys.kid,
      UPVEST_API_RETRY_BASE_MS: '20',
      UPVEST_API_RETRY_MAX_MS: '200',
      ...overrides,
    },
  };
}
