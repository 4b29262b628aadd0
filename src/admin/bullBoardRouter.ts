import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import { Router } from 'express';

/**
 * The bull-board UI and its API. `basePath` is the path the browser sees (e.g. /admin/queues):
 * the page links its assets and API calls absolutely, so it must know where it is mounted.
 */
export function bullBoardRouter(queues: Queue[], basePath: string): Router {
  const serverAdapter = new ExpressAdapter().setBasePath(basePath);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    // @bull-board/express 9.10.1 brings its own copy of @bull-board/api 9.10.1, whose types differ
    // from the 9.10.2 installed here only by private members; the adapter's contract is the same.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
  });
  const app = serverAdapter.getRouter();
  app.disable('x-powered-by'); // bull-board's own Express app; the service's app disables it too
  return app as Router;
}
