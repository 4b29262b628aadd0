import { randomUUID } from 'node:crypto';

/** Builders of provider events for tests; every call gets fresh ids unless told otherwise. */

export type Status = 'NEW' | 'PROCESSING' | 'CONFIRMED' | 'CANCELLED';

export interface EventOptions {
  id?: string;
  paymentId?: string;
  status?: Status;
  createdAt?: string;
  object?: Record<string, unknown>;
}

export interface ProviderEvent {
  id: string;
  created_at: string;
  type: string;
  object: Record<string, unknown>;
  webhook_id: string;
}

export function withdrawalEvent(options: EventOptions = {}): ProviderEvent {
  const status = options.status ?? 'NEW';
  const createdAt = options.createdAt ?? '2021-07-21T14:10:00.00Z';
  return {
    id: options.id ?? randomUUID(),
    created_at: createdAt,
    type: `WITHDRAWAL.${status}`,
    object: {
      id: options.paymentId ?? '6ffa6b16-2380-4e7a-88b2-ae625c8eef99',
      created_at: '2020-08-24T14:15:22Z',
      updated_at: createdAt,
      reference_account_id: '295378ec-036e-4f3f-ae5c-2be85c93e837',
      account_group_id: 'ac1c39e9-2101-46b8-a624-d10a9e351b6c',
      user_id: 'b668282b-cdf3-439a-bda2-3f3c9f655bb7',
      amount: '200.00',
      currency: 'EUR',
      remittance_information: 'Withdrawal',
      status,
      ...options.object,
    },
    webhook_id: '9df39835-be87-4243-9018-f2500b39cee6',
  };
}

export function directDebitEvent(options: EventOptions = {}): ProviderEvent {
  const status = options.status ?? 'NEW';
  return {
    id: options.id ?? randomUUID(),
    created_at: options.createdAt ?? '2021-07-21T14:10:00.00Z',
    type: `DIRECT_DEBIT.${status}`,
    object: {
      id: options.paymentId ?? '1ab4fef9-a097-4c6f-9345-647025d5fde6',
      created_at: '2020-08-24T14:15:22Z',
      user_id: '82b49999-1145-4e05-916a-567662daa7bc',
      account_group_id: '1ea60f56-b67b-61fc-829a-0242ac130003',
      mandate_id: '730b8719-0bc6-401d-98dd-b2de72afbf05',
      cash_amount: '200.00',
      currency: 'EUR',
      remittance_information: 'payment for green energy portfolio',
      status,
      ...options.object,
    },
    webhook_id: '9df39835-be87-4243-9018-f2500b39cee6',
  };
}

export function batchOf(...events: unknown[]): string {
  return JSON.stringify({ payload: events });
}
