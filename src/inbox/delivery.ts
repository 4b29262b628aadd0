import { QuarantineItem } from '../quarantine/QuarantineItem';
import { PaymentEvent } from '../events/upvestEvents';

/** A valid withdrawal or direct-debit event and where it stands in the batch's `payload`. */
export interface BatchEvent {
  event: PaymentEvent;
  position: number;
}

/** A delivery's body sorted by the ingest (classifyBatch), as the inbox commits it. */
export interface ClassifiedBatch {
  /** The body as text when it is a {"payload":[...]} batch: each event is stored from it exactly as received. */
  text: string | undefined;
  /** Valid withdrawal and direct-debit events, the first copy of each event id. */
  events: BatchEvent[];
  /** Further copies of an event id in the same batch, with the same content as the first: duplicates. */
  repeated: PaymentEvent[];
  /** Events of categories this service does not project (USER.*, ORDER.*), counted by type. */
  ignored: Map<string, number>;
  /** What goes to quarantine, bounded per delivery. */
  quarantined: QuarantineItem[];
}

/** A classified delivery: its content, when it arrived and in which request. */
export interface Delivery {
  batch: ClassifiedBatch;
  requestId: string;
  receivedAt: Date;
}
