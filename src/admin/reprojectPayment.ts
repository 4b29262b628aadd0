import { PrismaClient } from '../database/prismaClient';
import { PaymentKind } from '../events/upvestEvents';
import { ProjectionStore } from '../projection/ProjectionStore';
import { PaymentReader } from '../readApi/PaymentReader';
import { resourceOfKind } from '../readApi/paymentResources';

/**
 * Rebuilds a payment's row from its event log and answers it as the read API shows it (amounts as
 * stored, with their history), so that operators compare like with like. Undefined when the
 * payment has no events.
 */
export async function reprojectPayment(prisma: PrismaClient, kind: PaymentKind, paymentId: string): Promise<object | undefined> {
  if (!(await new ProjectionStore(prisma).rebuildPayment(kind, paymentId))) return undefined;
  return new PaymentReader(prisma).find(resourceOfKind(kind), paymentId);
}
