/** Where a command writes: results to out (parsable with --json), progress, usage and errors to err. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** Exit codes of `npm run cli`. */
export const EXIT = {
  ok: 0,
  /** The provider's API, the database or Redis failed, or the job to retry is not failed. */
  failed: 1,
  /** Bad arguments or configuration. */
  usage: 2,
  /** No such webhook, job or quarantined payload, or no events of the payment. */
  notFound: 3,
} as const;
