/** The options of `npm run cli`, shared by all its commands. */
export const CLI_OPTIONS = {
  url: { type: 'string' },
  types: { type: 'string', default: 'WITHDRAWAL,DIRECT_DEBIT' },
  delay: { type: 'string', default: '5s' },
  'max-package-size': { type: 'string', default: '10240' },
  title: { type: 'string', default: 'upvest-webhook-receiver' },
  since: { type: 'string' },
  'page-size': { type: 'string', default: '100' },
  restart: { type: 'boolean', default: false },
  type: { type: 'string' },
  reason: { type: 'string' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  json: { type: 'boolean', default: false },
  description: { type: 'string' },
  kinds: { type: 'string' },
  statuses: { type: 'string' },
  'all-kinds': { type: 'boolean', default: false },
  'all-statuses': { type: 'boolean', default: false },
  overlap: { type: 'string' },
  'from-position': { type: 'string' },
  undelivered: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

export type CliValues = { [K in keyof typeof CLI_OPTIONS]?: (typeof CLI_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };
