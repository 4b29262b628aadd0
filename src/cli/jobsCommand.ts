import { OperatorInbox } from '../inbox/OperatorInbox';
import { FailedJobQuarantiner } from '../operations/FailedJobQuarantiner';
import { FailedJobs } from '../operations/FailedJobs';
import { failedJobsQuery, jobId, retryFilterBody } from '../operations/operationInputs';
import { QuarantineStore } from '../quarantine/QuarantineStore';
import { jsonText } from '../shared/jsonText';
import { oneLine } from '../shared/oneLine';
import { COMMAND_POOL_SIZE, migrateIfConfigured, openDatabase, openReadyEventsQueue } from '../wiring/infrastructure';
import { cliCommand, CommandSetup } from './CliCommand';
import { EXIT } from './CliIo';
import { formatTable, truncated } from './formatTable';
import { parsedOrUsage, singleArgument } from './arguments';
import { UsageError } from './errors';

interface JobOperations {
  failedJobs: FailedJobs;
  failedJobQuarantiner: FailedJobQuarantiner;
}

/** What the jobs commands use: the events queue, once Redis answers, and the inbox and quarantine of the migrated database. */
async function wireJobOperations({ config, logger, resources }: CommandSetup): Promise<JobOperations> {
  await migrateIfConfigured(config.database, logger);
  const database = openDatabase(config.database.url, COMMAND_POOL_SIZE, resources);
  const { queue } = await openReadyEventsQueue(config, resources, logger);
  const inbox = new OperatorInbox(database.pool);
  return { failedJobs: new FailedJobs(queue, inbox), failedJobQuarantiner: new FailedJobQuarantiner(queue, inbox, new QuarantineStore(database.prisma)) };
}

/** `jobs failed|show|retry|retry-failed|quarantine`: the events queue's failed jobs. */
export const jobsCommand = cliCommand(wireJobOperations, async ({ subcommand, args, values, io, operations }) => {
  switch (subcommand) {
    case 'failed': {
      const query = parsedOrUsage(
        failedJobsQuery,
        { type: values.type, failedReasonContains: values.reason, limit: values.limit, offset: values.offset },
        'jobs failed',
      );
      const jobs = await (await operations()).failedJobs.list(query, query.limit, query.offset);
      if (values.json) {
        io.out(jsonText(jobs, 2));
        return EXIT.ok;
      }
      const rows = jobs.map((job) => [job.id, job.type, job.eventId ?? '-', String(job.attemptsMade), job.finishedAt ?? '-', truncated(oneLine(job.failedReason ?? ''), 200)]);
      io.out(formatTable(['ID', 'TYPE', 'EVENT', 'ATTEMPTS', 'FAILED AT', 'REASON'], rows));
      return EXIT.ok;
    }
    case 'show': {
      const id = parsedOrUsage(jobId, singleArgument(args, 'jobs show', 'job id'), 'job id');
      io.out(jsonText(await (await operations()).failedJobs.inspect(id), 2));
      return EXIT.ok;
    }
    case 'retry': {
      const id = parsedOrUsage(jobId, singleArgument(args, 'jobs retry', 'job id'), 'job id');
      await (await operations()).failedJobs.retry(id);
      io.out(`job ${id} moved back to waiting, with fresh attempts`);
      return EXIT.ok;
    }
    case 'quarantine': {
      const id = parsedOrUsage(jobId, singleArgument(args, 'jobs quarantine', 'job id'), 'job id');
      const result = await (await operations()).failedJobQuarantiner.setAside(id);
      io.out(`job ${id} removed; its event ${result.eventId} is quarantined as #${result.quarantineId} (quarantine reprocess ${result.quarantineId} queues it again)`);
      return EXIT.ok;
    }
    case 'retry-failed': {
      if (args.length > 0) throw new UsageError('jobs retry-failed takes no arguments, only --type, --reason and --limit');
      const filter = parsedOrUsage(retryFilterBody, { type: values.type, failedReasonContains: values.reason, limit: values.limit }, 'jobs retry-failed');
      const result = await (await operations()).failedJobs.retryMatching(filter, filter.limit);
      io.out(values.json ? jsonText(result, 2) : `retried ${result.retried} of ${result.matched} matching failed job(s)`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown jobs command: ${subcommand ?? '(none)'}`);
  }
});
