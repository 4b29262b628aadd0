import { PaymentEvent } from './upvestEvents';

/** Where an event came from: a webhook, or a payment state fetched from the provider's API. */
export const EVENT_SOURCES = ['webhook', 'reconciliation', 'backfill'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

/** An event on its way into the projection: read back from the inbox, or fetched from the provider. */
export interface ReceivedEvent {
  event: PaymentEvent;
  receivedAt: string;
  /** Default 'webhook': the event is in the inbox (webhook_events) already. Fetched states are not. */
  source?: EventSource;
}
