import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { loadConfig } from './src/config/config';
import { generateKeyPair } from './src/signature';
import { benchResources, deleteRedisKeys, dropDatabase } from './bench/benchResources';
import { ingestEvents } from './bench/paymentEvents';
import { runLoadGenerator } from './bench/runLoad';
import { ServerProcess } from './bench/serviceProcess';
import { signRequests, writeRequestsFile } from './bench/signedRequests';
import { inBatches } from './src/shared/inBatches';

const scenarios = (process.env.SCENARIOS ?? '1x32,50x32,1700x1').split(',').map((s) => s.split('x').map(Number));
const extraArgs = (process.env.NODE_ARGS ?? '').split(' ').filter(Boolean);

function cpuOf(pattern: RegExp): number {
  let total = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!pattern.test(comm)) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12])) / 100;
    } catch {}
  }
  return total;
}

function metric(port: number, name: string): Promise<string> {
  return new Promise((resolve) => http.get(`http://127.0.0.1:${port}/metrics`, (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => resolve(b.split('\n').filter((l) => l.startsWith(name)).join(' | '))); }));
}

async function main() {
  const resources = benchResources();
  const keyPair = generateKeyPair('p521');
  const key = { kid: keyPair.kid, privateKey: crypto.createPrivateKey(keyPair.privateKeyPem) };
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ROLE: 'api', LOG_LEVEL: 'warn', DATABASE_URL: resources.databaseUrl, REDIS_URL: resources.redisUrl, REDIS_PREFIX: resources.redisPrefix, UPVEST_WEBHOOK_JWKS: JSON.stringify(keyPair.jwks), METRICS_PORT: '0', ...JSON.parse(process.env.EXTRA_ENV ?? '{}') };
  const config = loadConfig(env);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exp-'));
  const api = await ServerProcess.start('api', [...extraArgs, 'dist/main.js'], env);
  try {
    for (const [n, c] of scenarios) {
      const count = n === 1700 ? 110 : 3200;
      const file = path.join(dir, `r${n}.ndjson`);
      writeRequestsFile(file, signRequests(inBatches(ingestEvents(count * n), n), key, config.webhook.path));
      const cpu0 = api.cpuSeconds(); const pg0 = cpuOf(/^postgres/); const rd0 = cpuOf(/^redis/); const all0 = cpuOf(/./);
      const load = await runLoadGenerator({ url: `http://127.0.0.1:${api.port}${config.webhook.path}`, requestsFile: file, warmupRequests: n === 1700 ? 10 : 200, concurrency: c, maxRequests: count, maxSeconds: 30 }, new AbortController().signal);
      const cpu = api.cpuSeconds() - cpu0; const pg = cpuOf(/^postgres/) - pg0; const rd = cpuOf(/^redis/) - rd0; const all = cpuOf(/./) - all0;
      console.log(`   postgres ${(pg * 1000 / load.answered).toFixed(2)} ms/req, redis ${(rd * 1000 / load.answered).toFixed(2)} ms/req, all processes ${(all * 1000 / load.answered).toFixed(2)} ms/req`);
      console.log(`${n}x${c}: ${(load.requests / (load.elapsedMs / 1000)).toFixed(0)} req/s p50 ${load.p50Ms.toFixed(1)} p99 ${load.p99Ms.toFixed(1)} cpu ${(cpu * 1000 / load.answered).toFixed(2)} ms/req fail ${load.failures} rss ${api.peakRssMb().toFixed(0)}`);
      console.log('   ', await metric(api.port, 'nodejs_heap_size_total_bytes'), await metric(api.port, 'nodejs_external_memory_bytes'));
    }
    if (process.env.SMAPS) {
      const text = fs.readFileSync(`/proc/${api.pid}/smaps`, 'utf8');
      const sums = new Map<string, number>();
      let current = '';
      for (const line of text.split('\n')) {
        const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
        if (header) { current = header[1] || '[anon]'; continue; }
        const rss = /^Rss:\s+(\d+) kB/.exec(line);
        if (rss) sums.set(current, (sums.get(current) ?? 0) + Number(rss[1]));
      }
      for (const [k, v] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(String(Math.round(v / 1024)).padStart(5), 'MB', k);
      console.log(fs.readFileSync(`/proc/${api.pid}/status`, 'utf8').split('\n').filter((l) => /Vm(RSS|HWM)|RssAnon|RssFile|Threads/.test(l)).join(' | '));
    }
  } finally {
    await api.stop();
    await deleteRedisKeys(resources.redisUrl, resources.redisPrefix);
    await dropDatabase(resources.databaseUrl);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
main();
