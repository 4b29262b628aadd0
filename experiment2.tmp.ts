import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from './src/config/config';
import { generateKeyPair } from './src/signature';
import { ingestEvents } from './bench/paymentEvents';
import { runLoadGenerator } from './bench/runLoad';
import { ServerProcess } from './bench/serviceProcess';
import { signRequests, writeRequestsFile } from './bench/signedRequests';
import { inBatches } from './src/shared/inBatches';
async function main() {
  const keyPair = generateKeyPair('p521');
  const key = { kid: keyPair.kid, privateKey: crypto.createPrivateKey(keyPair.privateKeyPem) };
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, UPVEST_WEBHOOK_JWKS: JSON.stringify(keyPair.jwks) };
  const config = loadConfig(env);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exp-'));
  const bare = await ServerProcess.start('bare', [...process.execArgv, ...(process.env.NODE_ARGS ?? '').split(' ').filter(Boolean), 'bench/bareVerifierServer.ts'], env);
  const file = path.join(dir, 'r.ndjson');
  writeRequestsFile(file, signRequests(inBatches(ingestEvents(3200), 1), key, config.webhook.path));
  const cpu0 = bare.cpuSeconds();
  const load = await runLoadGenerator({ url: `http://127.0.0.1:${bare.port}${config.webhook.path}`, requestsFile: file, warmupRequests: 200, concurrency: 32, maxRequests: 3000, maxSeconds: 30 }, new AbortController().signal);
  console.log(`bare: ${(load.requests / (load.elapsedMs / 1000)).toFixed(0)} req/s cpu ${((bare.cpuSeconds() - cpu0) * 1000 / load.answered).toFixed(2)} ms/req`);
  await bare.stop();
  fs.rmSync(dir, { recursive: true });
}
main();
