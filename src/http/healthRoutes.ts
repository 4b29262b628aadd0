import { Router } from 'express';
import { withTimeout } from '../shared/withTimeout';
import { ReadinessTimeoutError } from './errors';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency is usable; rejects with the reason otherwise. */
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2000;

/** /healthz says the process runs; /readyz says its dependencies answer. */
export function healthRoutes(checks: ReadinessCheck[]): Router {
  const router = Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', async (_request, response) => {
    const results = await Promise.all(checks.map(async ({ name, check }) => [name, await outcomeOf(check)] as const));
    const ready = results.every(([, outcome]) => outcome === 'ok');
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
  });
  return router;
}

async function outcomeOf(check: () => Promise<void>): Promise<string> {
  try {
    await withTimeout(check(), CHECK_TIMEOUT_MS, () => new ReadinessTimeoutError(CHECK_TIMEOUT_MS));
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  }
}
