import { ProjectionStore } from '../projection/ProjectionStore';
import { Backfill, BackfillReport } from '../reconciliation/Backfill';
import { BackfillProgressStore } from '../reconciliation/BackfillProgressStore';
import { COMMAND_POOL_SIZE, migrateIfConfigured, openDatabase, upvestApiOf } from '../wiring/infrastructure';
import { cliCommand, CommandSetup, withCredentials } from './CliCommand';
import { EXIT } from './CliIo';
import { formatTable } from './formatTable';
import { UsageError } from './errors';

/** What backfill uses: the provider's API, and the database it projects into, migrated as the service migrates it. */
async function wireBackfill({ config, logger, resources }: CommandSetup): Promise<Backfill> {
  const api = withCredentials(upvestApiOf(config, logger));
  await migrateIfConfigured(config.database, logger);
  const database = openDatabase(config.database.url, COMMAND_POOL_SIZE, resources);
  return new Backfill(new BackfillProgressStore(database.prisma), api, new ProjectionStore(database.prisma), logger);
}

/** `backfill --since DATE`: fetches every payment created since the date and projects it. */
export const backfillCommand = cliCommand(wireBackfill, async ({ subcommand, values, io, operations }) => {
  if (subcommand !== undefined) throw new UsageError(`unknown command: backfill ${subcommand}`);
  if (values.since === undefined) throw new UsageError('--since is required');
  const since = new Date(values.since);
  if (Number.isNaN(since.getTime())) throw new UsageError(`--since is not a date: ${values.since}`);
  const pageSize = Number(values['page-size']);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new UsageError(`--page-size must be a whole number from 1 to 1000, not ${values['page-size']}`);
  }
  const backfill = await operations();
  const results = await backfill.run({
    since,
    pageSize,
    restart: values.restart ?? false,
    onProgress: (progress) => io.err(progressLine(progress)),
  });
  if (values.json) {
    io.out(JSON.stringify(results, null, 2));
  } else {
    io.out(
      formatTable(
        ['KIND', 'READ', 'PROJECTED', 'INVALID', 'STATE'],
        results.map((result) => [
          result.kind,
          String(result.offset),
          String(result.projected),
          String(result.invalid),
          result.alreadyComplete ? 'already complete (use --restart to run again)' : 'complete',
        ]),
      ),
    );
  }
  return results.some((result) => result.invalid > 0) ? EXIT.failed : EXIT.ok;
});

function progressLine(progress: BackfillReport): string {
  const total = progress.totalCount === undefined ? '' : ` of ${progress.totalCount}`;
  return `${progress.kind}: read ${progress.offset}${total}, projected ${progress.projected}${progress.done ? ', done' : ''}`;
}
