import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import { RequestHandler, Router } from 'express';
import { sendProblem } from '../http/problem';

/**
 * The bull-board actions that lose or rewrite nothing: retrying, promoting, pausing and resuming.
 * Emptying, cleaning, obliterating, removing or editing jobs stays closed: a removed failed job
 * would hide its event's failure (its event is safe in the inbox, and the sweeper would queue it
 * again only to fail again); so do concurrency and rate-limit changes, which would undo
 * reconciliation's one-run-at-a-time.
 */
const ALLOWED_ACTIONS: readonly RegExp[] = [
  /^\/api\/queues\/(pause|resume)$/,
  /^\/api\/queues\/[^/]+\/(pause|resume|promote)$/,
  /^\/api\/queues\/[^/]+\/retry\/[^/]+$/,
  /^\/api\/queues\/[^/]+\/[^/]+\/(retry|promote)$/,
];

const onlySafeActions: RequestHandler = (request, response, next) => {
  if (request.method === 'GET' || request.method === 'HEAD' || ALLOWED_ACTIONS.some((action) => action.test(request.path))) {
    next();
    return;
  }
  sendProblem(
    response,
    403,
    'forbidden',
    'Forbidden',
    'This bull-board action would delete or rewrite queued events and is turned off; retry, promote, pause and resume are available.',
  );
};

/**
 * The bull-board UI and its API, limited to actions that lose nothing. `basePath` is the path the
 * browser sees (e.g. /admin/queues): the page links its assets and API calls absolutely, so it must
 * know where it is mounted.
 */
export function bullBoardRouter(queues: Queue[], basePath: string): Router {
  const serverAdapter = new ExpressAdapter().setBasePath(basePath);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    // @bull-board/express 9.10.1 brings its own copy of @bull-board/api 9.10.1, whose types differ
    // from the 9.10.2 installed here only by private members; the adapter's contract is the same.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
  });
  const board = serverAdapter.getRouter();
  board.disable('x-powered-by'); // bull-board's own Express app; the service's app disables it too
  return Router().use(onlySafeActions, board);
}
