export interface IssuedToken {
  accessToken: string;
  expiresInSeconds: number;
}

interface CachedToken {
  accessToken: string;
  refreshAtMs: number;
}

/** Refresh this long before expiry, but never earlier than half-way through a short-lived token. */
const REFRESH_MARGIN_MS = 60_000;

/**
 * OAuth2 client-credentials tokens, one per set of scopes, reused until shortly before they expire.
 * Concurrent callers that need the same token share one request for it.
 */
export class AccessTokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly issue: (scope: string) => Promise<IssuedToken>,
    private readonly now: () => number = Date.now,
  ) {}

  async tokenFor(scopes: readonly string[]): Promise<string> {
    const scope = scopeKey(scopes);
    const cached = this.tokens.get(scope);
    if (cached !== undefined && this.now() < cached.refreshAtMs) return cached.accessToken;
    let pending = this.pending.get(scope);
    if (pending === undefined) {
      pending = this.refresh(scope).finally(() => this.pending.delete(scope));
      this.pending.set(scope, pending);
    }
    return pending;
  }

  /** Forgets a token the provider rejected (revoked, or expired early), so that the next call gets a new one. */
  invalidate(scopes: readonly string[], accessToken: string): void {
    const scope = scopeKey(scopes);
    if (this.tokens.get(scope)?.accessToken === accessToken) this.tokens.delete(scope);
  }

  private async refresh(scope: string): Promise<string> {
    const requestedAt = this.now();
    const { accessToken, expiresInSeconds } = await this.issue(scope);
    const lifetimeMs = expiresInSeconds * 1000;
    this.tokens.set(scope, { accessToken, refreshAtMs: requestedAt + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2) });
    return accessToken;
  }
}

/** The same scopes in any order are the same token. */
function scopeKey(scopes: readonly string[]): string {
  return [...new Set(scopes)].sort().join(' ');
}
