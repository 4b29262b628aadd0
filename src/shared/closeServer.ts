import { Server } from 'node:http';

/** Stops accepting connections, closes the idle keep-alive ones, and resolves when the rest have finished. */
export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
}
