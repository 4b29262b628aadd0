import { PrismaClient } from '../database/prismaClient';

export interface QuarantineRecord {
  reason: string;
  content: Buffer;
  contentSha256: string;
  eventId?: string;
  eventType?: string;
  receivedAt: Date;
  requestId: string;
}

export interface QuarantineListing {
  id: bigint;
  reason: string;
  eventId: string | null;
  eventType: string | null;
  requestId: string;
  receivedAt: Date;
  quarantinedAt: Date;
  content: string;
}

/** Authentic but unusable content, kept once per distinct content for an operator to inspect. */
export class QuarantineStore {
  constructor(private readonly prisma: PrismaClient) {}

  async save(record: QuarantineRecord): Promise<void> {
    await this.prisma.quarantinedPayload.createMany({
      data: [{ ...record, content: new Uint8Array(record.content) }],
      skipDuplicates: true,
    });
  }

  async list(limit: number): Promise<QuarantineListing[]> {
    const rows = await this.prisma.quarantinedPayload.findMany({ orderBy: { id: 'desc' }, take: limit });
    return rows.map(({ content, contentSha256: _hash, ...row }) => ({ ...row, content: Buffer.from(content).toString('utf8') }));
  }
}
