import { createLogger } from '../../src/logging/logger';
import { ProviderKeyStore } from '../../src/provider/ProviderKeyStore';
import { KeySourceUnavailableError, signWebhookRequest, SignatureVerificationError, verifyWebhookSignature } from '../../src/signature';
import { testKey, type TestKey } from '../support/upvestClientSetup';

const MIN_REFRESH_MS = 30_000;
const REFRESH_INTERVAL_MS = 3_600_000;
const REFRESH_WAIT_MS = 200;

const oldKey = testKey();
const newKey = testKey('ed25519');
const jwksOf = (...keys: TestKey[]) => ({ keys: keys.flatMap((key) => key.jwks.keys) });

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

describe('ProviderKeyStore', () => {
  const clock = { nowMs: 0 };
  const logger = createLogger('error', true);
  let fetchJwks: jest.Mock<Promise<unknown>, []>;
  let store: ProviderKeyStore;

  /** Verifies a webhook signed with `key` against the store, as the webhook route does. */
  const webhookSignedWith = (key: TestKey) => {
    const body = Buffer.from('{"payload":[]}');
    const message = { method: 'POST', path: '/webhooks/upvest', query: '', headers: { 'content-type': 'application/json', 'content-length': String(body.length) }, body };
    const headers = { ...message.headers, ...signWebhookRequest(message, { key }) };
    return () => verifyWebhookSignature({ ...message, headers }, { keyLookup: store.lookup, baseFormat: 'v6', clockSkewSeconds: 60, maxAgeSeconds: 0, enforceExpires: false });
  };

  beforeEach(() => {
    clock.nowMs = 0;
    fetchJwks = jest.fn(async () => jwksOf(oldKey));
    store = new ProviderKeyStore(fetchJwks, logger, { refreshIntervalMs: REFRESH_INTERVAL_MS, minRefreshIntervalMs: MIN_REFRESH_MS, refreshWaitMs: REFRESH_WAIT_MS }, () => clock.nowMs);
  });

  afterEach(() => {
    store.stop();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('loads the provider keys on start', async () => {
    await store.start();

    expect(store.loaded).toBe(true);
    await expect(store.lookup(oldKey.kid)).resolves.toMatchObject({ kid: oldKey.kid, algorithm: 'ecdsa-p521-sha512' });
    await expect(store.lookup(newKey.kid)).resolves.toBeUndefined();
    await expect(webhookSignedWith(oldKey)()).resolves.toMatchObject({ keyId: oldKey.kid });
  });

  it('rejects lookups with KeySourceUnavailableError until keys were loaded once', async () => {
    fetchJwks.mockRejectedValue(new Error('connect ECONNREFUSED'));
    await expect(store.lookup(oldKey.kid)).rejects.toThrow(KeySourceUnavailableError);

    await store.start();
    expect(store.loaded).toBe(false);
    await expect(store.lookup(oldKey.kid)).rejects.toThrow(KeySourceUnavailableError);
  });

  it('rejects a lookup with KeySourceUnavailableError when the first load has not answered within refreshWaitMs', async () => {
    const answer = deferred<unknown>();
    fetchJwks.mockReturnValueOnce(answer.promise);
    void store.start();

    const started = Date.now();
    await expect(store.lookup(oldKey.kid)).rejects.toThrow(KeySourceUnavailableError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(REFRESH_WAIT_MS - 5);

    answer.resolve(jwksOf(oldKey));
    await new Promise(setImmediate);
    await expect(store.lookup(oldKey.kid)).resolves.toMatchObject({ kid: oldKey.kid });
    expect(fetchJwks).toHaveBeenCalledTimes(1);
  });

  it('looks up an unknown key id by refreshing once, then finds the new key', async () => {
    await store.start();
    fetchJwks.mockResolvedValue(jwksOf(oldKey, newKey));

    await expect(store.lookup(newKey.kid)).resolves.toMatchObject({ kid: newKey.kid, algorithm: 'ed25519' });
    await expect(store.lookup(newKey.kid)).resolves.toMatchObject({ kid: newKey.kid });
    expect(fetchJwks).toHaveBeenCalledTimes(2);
  });

  it('answers undefined for a key id the refresh did not bring, without refreshing again within minRefreshIntervalMs', async () => {
    await store.start();
    const stranger = testKey().kid;

    await expect(store.lookup(stranger)).resolves.toBeUndefined();
    await expect(store.lookup(stranger)).resolves.toBeUndefined();
    expect(fetchJwks).toHaveBeenCalledTimes(2);
  });

  it('loads the keys and verifies again when a webhook arrives before any keys were loaded', async () => {
    fetchJwks.mockRejectedValueOnce(new Error('connect ECONNREFUSED'));
    await store.start();

    await expect(webhookSignedWith(oldKey)()).resolves.toMatchObject({ keyId: oldKey.kid });
    expect(fetchJwks).toHaveBeenCalledTimes(2);
  });

  it('refreshes once for an unknown key id, then verifies again with the new keys', async () => {
    await store.start();
    fetchJwks.mockResolvedValue(jwksOf(oldKey, newKey));

    await expect(webhookSignedWith(newKey)()).resolves.toMatchObject({ keyId: newKey.kid });
    expect(fetchJwks).toHaveBeenCalledTimes(2);
    await expect(store.lookup(oldKey.kid)).resolves.toBeDefined();
  });

  it('lets concurrent callers with an unknown key id share one refresh', async () => {
    await store.start();
    const answer = deferred<unknown>();
    fetchJwks.mockReturnValueOnce(answer.promise);

    const callers = [1, 2, 3].map(() => webhookSignedWith(newKey)());
    answer.resolve(jwksOf(oldKey, newKey));
    for (const caller of callers) await expect(caller).resolves.toMatchObject({ keyId: newKey.kid });
    expect(fetchJwks).toHaveBeenCalledTimes(2);
  });

  it('does not hold a webhook longer than refreshWaitMs for a slow refresh, and has the keys once it arrives', async () => {
    await store.start();
    const answer = deferred<unknown>();
    fetchJwks.mockReturnValueOnce(answer.promise);

    const started = Date.now();
    await expect(webhookSignedWith(newKey)()).rejects.toMatchObject({ reason: 'unknown_key' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(REFRESH_WAIT_MS - 5);

    answer.resolve(jwksOf(oldKey, newKey));
    await new Promise(setImmediate);
    await expect(webhookSignedWith(newKey)()).resolves.toMatchObject({ keyId: newKey.kid });
  });

  it('starts without waiting for the first load, and says whether it succeeded', async () => {
    const answer = deferred<unknown>();
    fetchJwks.mockReturnValueOnce(answer.promise);

    const firstLoad = store.start();
    expect(store.loaded).toBe(false);
    answer.resolve(jwksOf(oldKey));
    await expect(firstLoad).resolves.toBe(true);
    expect(store.loaded).toBe(true);
  });

  it('refreshes for unknown key ids at most once per minRefreshIntervalMs', async () => {
    await store.start();
    const stranger = webhookSignedWith(testKey());

    await expect(stranger()).rejects.toMatchObject({ reason: 'unknown_key' });
    clock.nowMs = MIN_REFRESH_MS - 1;
    await expect(stranger()).rejects.toMatchObject({ reason: 'unknown_key' });
    expect(await store.refreshForUnknownKey()).toBe(false);
    expect(fetchJwks).toHaveBeenCalledTimes(2);

    clock.nowMs = MIN_REFRESH_MS;
    await expect(stranger()).rejects.toBeInstanceOf(SignatureVerificationError);
    expect(fetchJwks).toHaveBeenCalledTimes(3);
  });

  it('does not refresh for a signature that fails for another reason than its key id', async () => {
    await store.start();
    const badSignature = webhookSignedWith({ ...testKey(), kid: oldKey.kid });

    await expect(badSignature()).rejects.toMatchObject({ reason: 'bad_signature' });
    expect(fetchJwks).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['the provider cannot be reached', () => Promise.reject(new Error('connect ECONNREFUSED'))],
    ['the provider answers an unusable JWKS', () => Promise.resolve({ keys: [] })],
  ])('keeps the last good keys when %s', async (_situation, failingFetch) => {
    const errors = jest.spyOn(logger, 'error');
    await store.start();
    fetchJwks.mockImplementationOnce(failingFetch);

    expect(await store.refreshForUnknownKey()).toBe(false);
    await expect(store.lookup(oldKey.kid)).resolves.toBeDefined();
    await expect(webhookSignedWith(oldKey)()).resolves.toMatchObject({ keyId: oldKey.kid });
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('keeping the last good ones'), expect.objectContaining({ kids: [oldKey.kid] }));
  });

  it('refreshes every refreshIntervalMs until stop()', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    await store.start();
    fetchJwks.mockResolvedValue(jwksOf(newKey));

    await jest.advanceTimersByTimeAsync(REFRESH_INTERVAL_MS);
    expect(fetchJwks).toHaveBeenCalledTimes(2);
    await expect(store.lookup(newKey.kid)).resolves.toBeDefined();

    store.stop();
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(5 * REFRESH_INTERVAL_MS);
    expect(fetchJwks).toHaveBeenCalledTimes(2);
    // Last, as the lookup of a key id the store does not know refreshes.
    await expect(store.lookup(oldKey.kid)).resolves.toBeUndefined();
  });
});
