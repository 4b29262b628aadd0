import crypto from 'node:crypto';
import fs from 'node:fs';
import { DEFAULT_DEV_KEY_DIR, loadOrCreateDevKeyPair, signWebhookRequest, type SigningKey } from '../signature';
import { parseCommandLine, usageError } from '../cli/commandLine';

const DEFAULT_URL = 'http://127.0.0.1:3000/webhooks/upvest';

const USAGE = `Usage: npm run send -- <file.json|-> [options]

Signs a webhook batch the way Upvest does and POSTs it as application/json.
  <file.json|->          the batch, sent byte for byte ('-' reads stdin)
  --url URL              receiver (default ${DEFAULT_URL})
  --key FILE --kid KID   private key (PEM, EC P-521 or Ed25519) and its kid; default: the
                         development key pair in ${DEFAULT_DEV_KEY_DIR}/, created if missing
  --format v6|v15        signature base format (default v6, what Upvest uses for webhooks)
  --raw-signature        encode an ECDSA signature as raw r||s instead of DER
Prints the response status and body. Exit code 0 on 2xx, 1 otherwise, 2 on a usage error.`;

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(USAGE, {
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: DEFAULT_URL },
      key: { type: 'string' },
      kid: { type: 'string' },
      format: { type: 'string', default: 'v6' },
      'raw-signature': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usageError(USAGE, 'expected exactly one batch file (or - for stdin)');
  if (values.format !== 'v6' && values.format !== 'v15') return usageError(USAGE, `unknown --format ${values.format}`);
  if ((values.key === undefined) !== (values.kid === undefined)) return usageError(USAGE, '--key and --kid go together');
  if (!URL.canParse(values.url)) return usageError(USAGE, `invalid --url ${values.url}`);

  const url = new URL(values.url);
  const body = positionals[0] === '-' ? await readStdin() : fs.readFileSync(positionals[0]);
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
  const signatureHeaders = signWebhookRequest(
    {
      method: 'POST',
      path: url.pathname,
      query: url.search,
      authority: url.host,
      scheme: url.protocol.slice(0, -1),
      headers,
      body,
    },
    {
      key: signingKey(values.key, values.kid),
      baseFormat: values.format,
      ecdsaSignatureEncoding: values['raw-signature'] ? 'raw' : 'der',
    },
  );

  const response = await fetch(url, { method: 'POST', headers: { ...headers, ...signatureHeaders }, body });
  console.log(`${response.status} ${response.statusText}`);
  console.log(await response.text());
  return response.ok ? 0 : 1;
}

function signingKey(keyFile: string | undefined, kid: string | undefined): SigningKey {
  if (keyFile !== undefined && kid !== undefined) {
    return { kid, privateKey: crypto.createPrivateKey(fs.readFileSync(keyFile)) };
  }
  const devKeyPair = loadOrCreateDevKeyPair(DEFAULT_DEV_KEY_DIR);
  return { kid: devKeyPair.kid, privateKey: crypto.createPrivateKey(devKeyPair.privateKeyPem) };
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  },
);
