import { Config } from '../config/config';
import { ReadinessCheck } from '../http/healthRoutes';
import { Logger } from '../logging/logger';
import { ProviderKeyStore } from '../provider/ProviderKeyStore';
import { UpvestApi } from '../provider/UpvestApi';
import { DEFAULT_DEV_KEY_DIR, KeyLookup, KeySourceUnavailableError, loadOrCreateDevKeyPair, VerificationKeySet } from '../signature';
import { OpenResources } from './OpenResources';

/** A delivery signed with an unknown key id waits at most this long for the key refresh it triggers. */
const KEY_REFRESH_WAIT_MS = 5000;

export interface VerificationKeys {
  keyLookup: KeyLookup;
  /** With keys fetched from the provider: ready once they have loaded. */
  readiness?: ReadinessCheck;
}

/**
 * Where webhook verification finds the provider's keys: a static JWKS wins; else the provider's
 * API (`api`, when its credentials are configured); else, outside production, the local
 * development key.
 */
export function openVerificationKeys(config: Config, api: UpvestApi | undefined, resources: OpenResources, logger: Logger): VerificationKeys {
  const { webhook } = config;
  if (webhook.verificationKeys !== undefined) return { keyLookup: webhook.verificationKeys.lookup };
  if (api === undefined) return { keyLookup: developmentKeys(logger).lookup };
  const store = new ProviderKeyStore(() => api.verificationKeys(), logger, {
    refreshIntervalMs: webhook.keyRefreshIntervalMs,
    minRefreshIntervalMs: webhook.keyMinRefreshIntervalMs,
    refreshWaitMs: KEY_REFRESH_WAIT_MS,
  });
  // Not awaited: the service serves while the keys load (a slow or failing API retries for minutes);
  // until they have loaded, deliveries are answered 503 and the provider retries.
  void store.start();
  resources.add('verification key store', store, async (started) => started.stop());
  return {
    keyLookup: store.lookup,
    readiness: {
      name: 'verification-keys',
      check: async () => {
        if (!store.loaded) throw new KeySourceUnavailableError("the provider's verification keys are not loaded yet");
      },
    },
  };
}

function developmentKeys(logger: Logger): VerificationKeySet {
  const devKeys = loadOrCreateDevKeyPair(DEFAULT_DEV_KEY_DIR);
  logger.warn('no UPVEST_WEBHOOK_JWKS configured: accepting only the local development key; never do this in production', {
    kid: devKeys.kid,
    directory: DEFAULT_DEV_KEY_DIR,
  });
  return VerificationKeySet.fromJwks(devKeys.jwks);
}
