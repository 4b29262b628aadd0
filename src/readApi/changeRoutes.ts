import { Response, Router } from 'express';
import { z } from 'zod';
import { ChangeCursors, FEED_START, FeedPosition } from '../changes/ChangeCursors';
import { ChangeFeed, ChangeFilters, ChangePage } from '../changes/ChangeFeed';
import { ChangeNotifications } from '../changes/ChangeNotifications';
import { InvalidCursorError } from '../changes/errors';
import { canonicalTimestamp } from '../events/timestamps';
import { PAYMENT_KINDS, PAYMENT_STATUSES } from '../events/upvestEvents';
import { sendProblem } from '../http/problem';
import { DEFAULT_LIMIT, MAX_LIMIT } from './readApiParameters';

/** The longest a reader may wait for a change; ingresses commonly end idle requests after 60 s. */
export const MAX_WAIT_SECONDS = 30;

// Notifications wake the readers at once; this only bounds the wait where one is missed (a lost
// listening connection) or a change committed below a transaction that is still running.
const POLL_MS = 250;

const decimal = (maximum: number, fallback: number) =>
  z
    .string()
    .regex(/^[0-9]{1,4}$/, 'must be a non-negative integer')
    .transform(Number)
    .pipe(z.number().max(maximum, `must be at most ${maximum}`))
    .default(fallback);

const changesQuery = z
  .strictObject({
    after: z.string().optional(),
    from: z
      .string()
      .transform((value, context) => (value === 'now' ? value : (canonicalTimestamp(value) ?? (context.addIssue('must be "now" or an RFC 3339 date-time'), z.NEVER))))
      .optional(),
    limit: decimal(MAX_LIMIT, DEFAULT_LIMIT).pipe(z.number().min(1, 'must be at least 1')),
    wait: decimal(MAX_WAIT_SECONDS, 0),
    kind: z.enum(PAYMENT_KINDS, `must be one of ${PAYMENT_KINDS.join(', ')}`).optional(),
    status: z.enum(PAYMENT_STATUSES, `must be one of ${PAYMENT_STATUSES.join(', ')}`).optional(),
    payment_id: z.guid('must be a uuid').optional(),
  })
  .refine((query) => query.after === undefined || query.from === undefined, 'give either after or from, not both');

export interface ChangeRoutesOptions {
  feed: ChangeFeed;
  cursors: ChangeCursors;
  notifications: ChangeNotifications;
}

/**
 * GET /v1/changes: the status changes of every payment, each once, in a stable order, from a
 * cursor. With `wait`, an empty answer waits up to that many seconds for a change.
 */
export function changeRoutes(options: ChangeRoutesOptions): Router {
  const router = Router();
  router.get('/v1/changes', async (request, response) => {
    const query = changesQuery.safeParse(request.query);
    if (!query.success) return badRequest(response, query.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`).join('; '));
    const { after, from, limit, wait, kind, status, payment_id: paymentId } = query.data;
    let start: FeedPosition;
    try {
      start = after !== undefined ? options.cursors.decode(after) : await startOf(options.feed, from);
    } catch (error) {
      if (error instanceof InvalidCursorError) return badRequest(response, error.message);
      throw error;
    }
    const page = await readOrWait(options, start, limit, { kind, status, paymentId }, wait * 1000);
    // An empty answer keeps the reader where it was, as it asked.
    const next = page.changes.length > 0 ? page.next : start;
    response.json({ changes: page.changes, next: options.cursors.encode(next) });
  });
  return router;
}

function startOf(feed: ChangeFeed, from: string | undefined): Promise<FeedPosition> {
  if (from === undefined) return Promise.resolve(FEED_START);
  return from === 'now' ? feed.now() : feed.since(from);
}

async function readOrWait(options: ChangeRoutesOptions, start: FeedPosition, limit: number, filters: ChangeFilters, waitMs: number): Promise<ChangePage> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const page = await options.feed.read(start, limit, filters);
    const remainingMs = deadline - Date.now();
    if (page.changes.length > 0 || remainingMs <= 0) return page;
    await options.notifications.wait(Math.min(remainingMs, POLL_MS));
  }
}

function badRequest(response: Response, detail: string): void {
  sendProblem(response, 400, 'bad-request', 'Bad request', detail);
}
