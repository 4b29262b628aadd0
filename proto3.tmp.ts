import { Pool } from 'pg';
import { createPrismaClient } from './src/database/prismaClient';
async function main() {
  const url = 'postgresql://postgres@127.0.0.1:5432/proto_inbox';
  const prisma = createPrismaClient(url, 10);
  const pool = new Pool({ connectionString: url, max: 10 });
  const body = JSON.stringify({ payload: Array.from({ length: 50 }, (_, i) => ({ i, x: 'y'.repeat(500) })) });
  for (let round = 0; round < 3; round++) {
    for (const [name, fn] of [
      ['prisma', () => prisma.$queryRawUnsafe('SELECT length($1::text) AS n', body)],
      ['pg', () => pool.query({ text: 'SELECT length($1::text) AS n', values: [body] })],
      ['pg named', () => pool.query({ name: 'q', text: 'SELECT length($1::text) AS n', values: [body] })],
    ] as const) {
      const n = 5000;
      const cpu = process.cpuUsage();
      const t = performance.now();
      let inflight: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        inflight.push((fn as () => Promise<unknown>)());
        if (inflight.length >= 16) { await Promise.all(inflight); inflight = []; }
      }
      await Promise.all(inflight);
      const c = process.cpuUsage(cpu);
      console.log(name.padEnd(10), ((performance.now() - t) / n * 1000).toFixed(0), 'µs wall/q', ((c.user + c.system) / n).toFixed(0), 'µs cpu/q');
    }
  }
  await prisma.$disconnect(); await pool.end();
}
main();
