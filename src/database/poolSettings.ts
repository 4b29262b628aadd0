/** How long a query waits for a connection of a pool before it fails: every pool of the service, and Prisma's own in tests. */
export const CONNECTION_TIMEOUT_MS = 5000;
