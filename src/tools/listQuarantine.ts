// `npm run quarantine -- [--limit N] [--offset N] [--json]` is kept as the short form of
// `npm run cli -- quarantine list`: one implementation, one output format.
process.argv.splice(2, 0, 'quarantine', 'list');
void import('./cli');
