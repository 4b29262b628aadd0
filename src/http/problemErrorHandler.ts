import { ErrorRequestHandler } from 'express';
import { Logger } from '../logging/logger';
import { sendProblem } from './problem';
import { requestLoggerOf } from './requestContext';

/**
 * The last error handler: client errors that Express raises itself (a path that is not valid
 * percent-encoding, a body that is not JSON) become 4xx problems; anything else is logged, with
 * the request's id when there is one, and answered 500 without details.
 */
export function problemErrorHandler(logger: Logger | undefined, failureMessage = 'request failed'): ErrorRequestHandler {
  return (error, _request, response, _next) => {
    if (typeof error?.status === 'number' && error.status >= 400 && error.status < 500) {
      sendProblem(response, error.status, 'bad-request', 'Bad request', String(error.message));
      return;
    }
    const log = logger === undefined ? response.locals.logger : requestLoggerOf(response, logger);
    log?.error(failureMessage, { error: error instanceof Error ? error.stack : String(error) });
    sendProblem(response, 500, 'internal-error', 'Internal error', 'The request could not be processed.');
  };
}
