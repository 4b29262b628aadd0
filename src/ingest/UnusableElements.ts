import { quarantineItem, QuarantineItem } from '../quarantine/QuarantineItem';

/** At most this many unusable elements of one delivery are quarantined one by one. */
export const MAX_QUARANTINE_ITEMS = 20;

/** How many of their reasons a whole-body record names. */
const REASONS_NAMED = 3;
const REASON_CHARS = 300;

/**
 * The elements of one delivery that cannot be projected, kept within bounds: up to
 * MAX_QUARANTINE_ITEMS are quarantined one by one. Beyond that, or when an element cannot be
 * re-encoded on its own, the delivery's whole body is kept as one record that counts them and
 * names the first reasons. A batch of a hundred thousand broken items thus costs one row and one
 * log line, and the work for the reasons of the first few.
 */
export class UnusableElements {
  private items: QuarantineItem[] = [];
  private count = 0;
  private readonly reasons: string[] = [];
  private wholeBody = false;

  /**
   * `content`: the element's own JSON, or undefined when it cannot be encoded alone. The reason
   * is only worked out while it is still needed.
   */
  add(position: number, reason: () => string, content: () => Buffer | undefined, eventId?: string, eventType?: string): void {
    this.count += 1;
    if (this.wholeBody && this.reasons.length >= REASONS_NAMED) return;
    const text = reason();
    if (this.reasons.length < REASONS_NAMED) this.reasons.push(`payload[${position}]: ${text.slice(0, REASON_CHARS)}`);
    if (this.wholeBody) return;
    const bytes = this.count > MAX_QUARANTINE_ITEMS ? undefined : content();
    if (bytes === undefined) {
      this.wholeBody = true;
      this.items = [];
      return;
    }
    this.items.push(quarantineItem(text, bytes, eventId, eventType));
  }

  /** The quarantine records: one per element, or one holding `body` that stands for all of them. */
  quarantineItems(body: Buffer, elements: number): QuarantineItem[] {
    if (!this.wholeBody) return this.items;
    const more = this.count > this.reasons.length ? '; …' : '';
    const reason = `${this.count} of the ${elements} events cannot be used, so the whole body is kept: ${this.reasons.join('; ')}${more}`;
    return [{ ...quarantineItem(reason, body), elements: this.count }];
  }
}
