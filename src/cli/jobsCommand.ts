import { failedJobsQuery, jobId, retryFilterBody } from '../operations/operationInputs';
import { Operations } from '../operations/Operations';
import { jsonText } from '../shared/jsonText';
import { oneLine } from '../shared/oneLine';
import { CliCommand, CommandContext } from './CliCommand';
import { CliIo, EXIT } from './CliIo';
import { formatTable, truncated } from './formatTable';
import { parsedOrUsage, singleArgument } from './arguments';
import { UsageError } from './errors';

/** `jobs failed|show|retry|retry-failed|quarantine`: the events queue's failed jobs. */
export const jobsCommand: CliCommand = async (context) => {
  const { subcommand, args, values, io } = context;
  switch (subcommand) {
    case 'failed': {
      const query = parsedOrUsage(
        failedJobsQuery,
        { type: values.type, failedReasonContains: values.reason, limit: values.limit, offset: values.offset },
        'jobs failed',
      );
      const jobs = await (await operations(context)).failedJobs.list(query, query.limit, query.offset);
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
      const job = await (await operations(context)).failedJobs.inspect(id);
      if (job === undefined) return notFound(io, id);
      io.out(jsonText(job, 2));
      return EXIT.ok;
    }
    case 'retry': {
      const id = parsedOrUsage(jobId, singleArgument(args, 'jobs retry', 'job id'), 'job id');
      const outcome = await (await operations(context)).failedJobs.retry(id);
      if (outcome === 'not-found') return notFound(io, id);
      if (outcome === 'not-failed') {
        io.err(`job ${id} is not in the failed state; nothing retried`);
        return EXIT.failed;
      }
      io.out(`job ${id} moved back to waiting, with fresh attempts`);
      return EXIT.ok;
    }
    case 'quarantine': {
      const id = parsedOrUsage(jobId, singleArgument(args, 'jobs quarantine', 'job id'), 'job id');
      const result = await (await operations(context)).failedJobQuarantiner.setAside(id);
      if (result.outcome === 'not-found') return notFound(io, id);
      if (result.outcome !== 'set-aside') {
        io.err(SET_ASIDE_REFUSALS[result.outcome].replace('%s', id));
        return EXIT.failed;
      }
      io.out(`job ${id} removed; its event ${result.eventId} is quarantined as #${result.quarantineId} (quarantine reprocess ${result.quarantineId} queues it again)`);
      return EXIT.ok;
    }
    case 'retry-failed': {
      if (args.length > 0) throw new UsageError('jobs retry-failed takes no arguments, only --type, --reason and --limit');
      const filter = parsedOrUsage(retryFilterBody, { type: values.type, failedReasonContains: values.reason, limit: values.limit }, 'jobs retry-failed');
      const result = await (await operations(context)).failedJobs.retryMatching(filter, filter.limit);
      io.out(values.json ? jsonText(result, 2) : `retried ${result.retried} of ${result.matched} matching failed job(s)`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown jobs command: ${subcommand ?? '(none)'}`);
  }
};

/** The operations, once the database is migrated and Redis answers. */
async function operations(context: CommandContext): Promise<Operations> {
  const components = await context.migrated();
  await components.readyProjectionJobs();
  return components;
}

const SET_ASIDE_REFUSALS = {
  'not-failed': 'job %s is not in the failed state; nothing set aside',
  'not-an-event': 'job %s is not the job of one event; retry it instead',
  projected: 'the event of job %s has been projected meanwhile; retry the job to clear it',
};

function notFound(io: CliIo, id: string): number {
  io.err(`no job with id ${id}`);
  return EXIT.notFound;
}
