import { Router } from 'express';
import { ChangeCursors } from '../changes/ChangeCursors';
import { ChangeFeed } from '../changes/ChangeFeed';
import { ChangeNotifications } from '../changes/ChangeNotifications';
import { Database } from '../database/Database';
import { Logger } from '../logging/logger';
import { createReadApiRouter } from '../readApi/createReadApiRouter';
import { PaymentReader } from '../readApi/PaymentReader';
import { OpenResources } from './OpenResources';

/**
 * The read API behind READ_API_TOKEN (`token`, which also signs the feed's cursors): the status
 * tables, and the change feed with its wake-ups, which listen on a connection of their own.
 */
export function wireReadApiRouter(token: string, databaseUrl: string, logger: Logger, database: Database, resources: OpenResources): Router {
  const notifications = new ChangeNotifications(databaseUrl, logger);
  void notifications.start();
  resources.add('change notifications', notifications, (started) => started.stop());
  return createReadApiRouter({
    token,
    reader: new PaymentReader(database.prisma),
    changes: { feed: new ChangeFeed(database.pool), cursors: new ChangeCursors(token), notifications },
    logger,
  });
}
