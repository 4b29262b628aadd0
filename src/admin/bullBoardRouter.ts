import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { appRoutes } from '@bull-board/api/dist/routes.js';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import { Response, Router } from 'express';
import { sendProblem } from '../http/problem';

/**
 * The bull-board API routes that lose or rewrite nothing, by method and route as bull-board declares
 * them: retrying, promoting, pausing and resuming. Emptying, cleaning, obliterating, removing or
 * editing jobs stays closed: a removed failed job would hide its event's failure (its event is safe
 * in the inbox, and the sweeper would queue it again only to fail again); so do concurrency and
 * rate-limit changes, which would undo reconciliation's one-run-at-a-time.
 */
const SAFE_ACTIONS: ReadonlySet<string> = new Set([
  'put /api/queues/pause',
  'put /api/queues/resume',
  'put /api/queues/:queueName/retry/:queueStatus',
  'put /api/queues/:queueName/promote',
  'put /api/queues/:queueName/pause',
  'put /api/queues/:queueName/resume',
  'put /api/queues/:queueName/:jobId/retry',
  'put /api/queues/:queueName/:jobId/promote',
]);

/**
 * Reads go through; any other request only when the bull-board route it reaches is a safe action
 * and the path spells that route exactly. bull-board's router takes the first of its routes that
 * matches, case-insensitively: `PUT …/CLEAN/promote` reaches the clean-all route, not a job's
 * promote. So this router declares bull-board's routes in bull-board's order and matches as it does.
 */
function onlySafeActions(): Router {
  const guard = Router();
  guard.use((request, _response, next) => {
    if (request.method === 'GET' || request.method === 'HEAD') next('router');
    else next();
  });
  for (const route of appRoutes.api) {
    for (const method of [route.method].flat()) {
      for (const path of [route.route].flat()) {
        const safe = SAFE_ACTIONS.has(`${method} ${path}`);
        guard[method](path, (request, response, next) => {
          if (safe && spelledAs(path, request.path)) next('router');
          else refuse(response);
        });
      }
    }
  }
  guard.use((_request, response) => refuse(response));
  return guard;
}

/** Whether the path has the route's segments, literal ones in the route's case. */
function spelledAs(route: string, path: string): boolean {
  const expected = route.split('/');
  const actual = path.split('/');
  return actual.length === expected.length && expected.every((segment, index) => segment.startsWith(':') || segment === actual[index]);
}

function refuse(response: Response): void {
  sendProblem(
    response,
    403,
    'forbidden',
    'Forbidden',
    'This bull-board action would delete or rewrite queued events and is turned off; retry, promote, pause and resume are available.',
  );
}

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
  return Router().use(onlySafeActions(), board);
}
