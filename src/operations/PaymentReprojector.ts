import { PaymentKind } from '../events/upvestEvents';
import { ProjectionStore } from '../projection/ProjectionStore';
import { PaymentReader } from '../readApi/PaymentReader';
import { resourceOfKind } from '../changes/paymentResources';
import { PaymentEventsNotFoundError } from './errors';

/**
 * Rebuilds a payment's row from its event log, for repairing a row changed by hand or by a bug,
 * and answers it as the read API shows it (amounts as stored, with their history), so that
 * operators compare like with like.
 */
export class PaymentReprojector {
  constructor(
    private readonly store: ProjectionStore,
    private readonly reader: PaymentReader,
  ) {}

  /** Throws PaymentEventsNotFoundError when the payment has no events. */
  async reproject(kind: PaymentKind, paymentId: string): Promise<object> {
    const resource = resourceOfKind(kind);
    if (!(await this.store.rebuildPayment(kind, paymentId))) throw new PaymentEventsNotFoundError(resource.path, paymentId);
    // Rebuilt just now, and rows are never deleted: it is there.
    return (await this.reader.find(resource, paymentId)) as object;
  }
}
