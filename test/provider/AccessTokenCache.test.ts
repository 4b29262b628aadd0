import { AccessTokenCache, type IssuedToken } from '../../src/provider/AccessTokenCache';

/** A cache over a fake token endpoint that numbers its tokens, with a clock the test moves. */
function cacheWith(expiresInSeconds = 3600) {
  const clock = { nowMs: 0 };
  let issued = 0;
  const issue = jest.fn(async (scope: string): Promise<IssuedToken> => {
    issued += 1;
    return { accessToken: `token-${issued} (${scope})`, expiresInSeconds };
  });
  return { cache: new AccessTokenCache(issue, () => clock.nowMs), issue, clock };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('AccessTokenCache', () => {
  it('reuses a token until one minute before it expires, then gets a new one', async () => {
    const { cache, issue, clock } = cacheWith(3600);
    const first = await cache.tokenFor(['payments:read']);

    clock.nowMs = 3_540_000 - 1;
    expect(await cache.tokenFor(['payments:read'])).toBe(first);
    clock.nowMs = 3_540_000;
    expect(await cache.tokenFor(['payments:read'])).not.toBe(first);
    expect(issue).toHaveBeenCalledTimes(2);
  });

  it('refreshes a short-lived token half-way through its lifetime', async () => {
    const { cache, issue, clock } = cacheWith(60);
    await cache.tokenFor(['payments:read']);

    clock.nowMs = 29_999;
    await cache.tokenFor(['payments:read']);
    expect(issue).toHaveBeenCalledTimes(1);
    clock.nowMs = 30_000;
    await cache.tokenFor(['payments:read']);
    expect(issue).toHaveBeenCalledTimes(2);
  });

  it('counts the lifetime from when the token was requested, not from when it arrived', async () => {
    const clock = { nowMs: 0 };
    const issue = jest.fn(async (): Promise<IssuedToken> => {
      clock.nowMs += 10_000;
      return { accessToken: `token-${issue.mock.calls.length}`, expiresInSeconds: 120 };
    });
    const cache = new AccessTokenCache(issue, () => clock.nowMs);
    await cache.tokenFor(['payments:read']);

    clock.nowMs = 60_000;
    await cache.tokenFor(['payments:read']);
    expect(issue).toHaveBeenCalledTimes(2);
  });

  it('lets concurrent callers share one token request', async () => {
    const answer = deferred<IssuedToken>();
    const issue = jest.fn(() => answer.promise);
    const cache = new AccessTokenCache(issue, () => 0);

    const callers = [cache.tokenFor(['webhooks:read']), cache.tokenFor(['webhooks:read']), cache.tokenFor(['webhooks:read'])];
    answer.resolve({ accessToken: 'shared', expiresInSeconds: 3600 });
    expect(await Promise.all(callers)).toEqual(['shared', 'shared', 'shared']);
    expect(issue).toHaveBeenCalledTimes(1);
  });

  it('keeps one token per set of scopes, whatever their order or repetition', async () => {
    const { cache, issue } = cacheWith();
    const both = await cache.tokenFor(['webhooks:read', 'payments:read']);

    expect(await cache.tokenFor(['payments:read', 'webhooks:read', 'payments:read'])).toBe(both);
    expect(await cache.tokenFor(['payments:read'])).not.toBe(both);
    expect(issue.mock.calls.map(([scope]) => scope)).toEqual(['payments:read webhooks:read', 'payments:read']);
  });

  it('rejects every waiting caller when the token request fails, and tries again on the next call', async () => {
    const answer = deferred<IssuedToken>();
    const issue = jest.fn(() => answer.promise);
    const cache = new AccessTokenCache(issue, () => 0);

    const callers = [cache.tokenFor(['payments:read']), cache.tokenFor(['payments:read'])];
    answer.reject(new Error('token endpoint down'));
    for (const caller of callers) await expect(caller).rejects.toThrow('token endpoint down');

    issue.mockResolvedValueOnce({ accessToken: 'second try', expiresInSeconds: 3600 });
    expect(await cache.tokenFor(['payments:read'])).toBe('second try');
    expect(issue).toHaveBeenCalledTimes(2);
  });

  it('forgets an invalidated token, but not a newer one that replaced it', async () => {
    const { cache, issue } = cacheWith();
    const revoked = await cache.tokenFor(['payments:read']);

    cache.invalidate(['payments:read'], revoked);
    const replacement = await cache.tokenFor(['payments:read']);
    expect(replacement).not.toBe(revoked);
    // A second caller that also saw the revoked token must not throw the replacement away.
    cache.invalidate(['payments:read'], revoked);
    expect(await cache.tokenFor(['payments:read'])).toBe(replacement);
    expect(issue).toHaveBeenCalledTimes(2);
  });
});
