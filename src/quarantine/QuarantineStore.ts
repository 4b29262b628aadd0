import { Prisma, PrismaClient } from '../database/prismaClient';
import { QuarantinedContent, SET_ASIDE_CONFLICT, SET_ASIDE_INSERT } from './quarantineSql';

/** A quarantined payload as an operator sees it; `content` is the whole content or, in listings, its start. */
export interface QuarantineListing {
  id: bigint;
  reason: string;
  eventId: string | null;
  eventType: string | null;
  requestId: string;
  receivedAt: Date;
  quarantinedAt: Date;
  reprocessedAt: Date | null;
  reprocessOutcome: string | null;
  contentBytes: number;
  content: string;
}

/** A quarantined payload with its raw bytes, for running it through the ingest again. */
export interface QuarantinedPayload {
  id: bigint;
  content: Buffer;
  requestId: string;
  receivedAt: Date;
}

/** Bytes of content a listing shows: bodies may be megabytes, and a listing only has to identify them. */
export const CONTENT_PREVIEW_BYTES = 300;

/** Authentic but unusable content, kept once per distinct content for an operator to inspect. */
export class QuarantineStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** Newest first, with the start of each content. */
  async list(limit: number, offset = 0): Promise<QuarantineListing[]> {
    // Raw: the preview is cut in SQL so that listing large bodies does not read them whole.
    const rows = await this.prisma.$queryRaw<Array<Omit<QuarantineListing, 'content'> & { content: Uint8Array }>>`SELECT id, reason,
        event_id AS "eventId", event_type AS "eventType", request_id AS "requestId",
        received_at AS "receivedAt", quarantined_at AS "quarantinedAt", reprocessed_at AS "reprocessedAt",
        reprocess_outcome AS "reprocessOutcome", octet_length(content) AS "contentBytes",
        substring(content FROM 1 FOR ${CONTENT_PREVIEW_BYTES}) AS content
      FROM quarantined_payloads ORDER BY id DESC LIMIT ${limit} OFFSET ${offset}`;
    return rows.map((row) => ({ ...row, contentBytes: Number(row.contentBytes), content: Buffer.from(row.content).toString('utf8') }));
  }

  /** One payload with its whole content as text, or undefined. */
  async get(id: bigint): Promise<QuarantineListing | undefined> {
    const row = await this.prisma.quarantinedPayload.findUnique({ where: { id } });
    if (row === null) return undefined;
    const { content, contentSha256: _hash, ...rest } = row;
    return { ...rest, contentBytes: content.length, content: Buffer.from(content).toString('utf8') };
  }

  /** One payload with its raw bytes, or undefined. */
  async payload(id: bigint): Promise<QuarantinedPayload | undefined> {
    const row = await this.prisma.quarantinedPayload.findUnique({
      where: { id },
      select: { id: true, content: true, requestId: true, receivedAt: true },
    });
    return row === null ? undefined : { ...row, content: Buffer.from(row.content) };
  }

  /**
   * Saves content an operator set aside (see setAsideSql), and answers its id.
   * Raw: the same statement as the inbox's, which sets aside an event from within its own SQL.
   */
  async setAside(record: QuarantinedContent): Promise<bigint> {
    const [{ id }] = await this.prisma.$queryRaw<Array<{ id: bigint }>>`${Prisma.raw(SET_ASIDE_INSERT)}
      VALUES (${record.reason}, ${record.eventId ?? null}, ${record.eventType ?? null}, ${record.content}, ${record.contentSha256},
        ${record.requestId}, ${record.receivedAt}::timestamptz)
      ${Prisma.raw(SET_ASIDE_CONFLICT)}`;
    return id;
  }

  async markReprocessed(id: bigint, outcome: string): Promise<void> {
    await this.prisma.quarantinedPayload.update({ where: { id }, data: { reprocessedAt: new Date(), reprocessOutcome: outcome } });
  }
}
