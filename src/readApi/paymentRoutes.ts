import { Response, Router } from 'express';
import { sendProblem } from '../http/problem';
import { PaymentReader } from './PaymentReader';
import { PaymentResource } from '../changes/paymentResources';
import { parseListQuery, parseNoQuery, parsePaymentId, Parsed } from './readApiParameters';

/** GET /v1/<resource> and GET /v1/<resource>/{id} for one kind of payment. */
export function paymentRoutes(resource: PaymentResource, reader: PaymentReader): Router {
  const router = Router();
  const base = `/v1/${resource.path}`;

  router.get(base, async (request, response) => {
    const filters = parseListQuery(request.query);
    if (isInvalid(filters, response)) return;
    response.json(await reader.list(resource, filters.value));
  });

  router.get(`${base}/:id`, async (request, response) => {
    const id = parsePaymentId(request.params.id);
    if (isInvalid(id, response) || isInvalid(parseNoQuery(request.query), response)) return;
    const payment = await reader.find(resource, id.value);
    if (payment === undefined) {
      sendProblem(response, 404, 'not-found', 'Not found', `No ${resource.noun} with id ${id.value}.`);
      return;
    }
    response.json(payment);
  });

  return router;
}

/** Answers 400 for an invalid input and says so. */
function isInvalid<T>(parsed: Parsed<T>, response: Response): parsed is { ok: false; detail: string } {
  if (!parsed.ok) sendProblem(response, 400, 'bad-request', 'Bad request', parsed.detail);
  return !parsed.ok;
}
