import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_DEV_KEY_DIR, generateKeyPair } from '../signature';
import { parseCommandLine, usageError } from '../cli/commandLine';

const USAGE = `Usage: npm run keys -- [--alg p521|ed25519] [--out DIR]

Generates a webhook signing key pair with a new uuid as kid.
  --alg p521|ed25519   key type (default p521: ECDSA P-521/SHA-512, what Upvest uses)
  --out DIR            where the private key goes, as DIR/<kid>.pem, mode 0600
                       (default ${DEFAULT_DEV_KEY_DIR})
Prints the public key as a JWKS to stdout and the private key's location to stderr.
Sign with it: npm run send -- <batch.json> --key DIR/<kid>.pem --kid <kid>`;

function main(argv: string[]): number {
  const parsed = parseCommandLine(USAGE, {
    args: argv,
    options: {
      alg: { type: 'string', default: 'p521' },
      out: { type: 'string', default: DEFAULT_DEV_KEY_DIR },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (values.alg !== 'p521' && values.alg !== 'ed25519') return usageError(USAGE, `unknown --alg ${values.alg}`);

  const pair = generateKeyPair(values.alg);
  const privateKeyPath = path.join(values.out, `${pair.kid}.pem`);
  fs.mkdirSync(values.out, { recursive: true });
  fs.writeFileSync(privateKeyPath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  console.log(JSON.stringify(pair.jwks, null, 2));
  console.error(`private key for kid ${pair.kid} written to ${privateKeyPath}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
