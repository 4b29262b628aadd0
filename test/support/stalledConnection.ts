import { once } from 'node:events';
import { connect, Socket } from 'node:net';

/**
 * A connection to the server on `port` that sends `bytes` and then nothing; resolves once the
 * server holds it. The server must answer GET /healthz.
 */
export async function openStalledConnection(port: number, bytes: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined); // the server may reset it
  socket.resume(); // reads the server's answer and end, without which it never closes
  await once(socket, 'connect');
  await new Promise((resolve) => socket.write(bytes, resolve));
  // The server accepts connections in order: once it answered a later one, it has this one.
  const check = await fetch(`http://127.0.0.1:${port}/healthz`);
  if (check.status !== 200) throw new Error(`GET /healthz answered ${check.status}`);
  return socket;
}
