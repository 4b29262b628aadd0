import { failedJobsQuery, jobId, jsonText, retryFilterBody } from '../admin/adminSchemas';
import { FailedJobQuarantiner } from '../admin/FailedJobQuarantiner';
import { FailedJobs } from '../admin/FailedJobs';
import { QuarantineStore } from '../quarantine/QuarantineStore';
import { Config } from '../config/config';
import { CliValues } from './cliOptions';
import { CliIo, EXIT } from './CliIo';
import { oneLine } from '../shared/oneLine';
import { withOperations } from './cliResources';
import { formatTable, truncated } from './formatTable';
import { parsedOrUsage, singleArgument, UsageError } from './UsageError';

/** `jobs failed|show|retry|retry-failed|quarantine`: the events queue's failed jobs. */
export async function jobsCommand(config: Config, subcommand: string | undefined, args: string[], values: CliValues, io: CliIo): Promise<number> {
  switch (subcommand) {
    case 'failed': {
      const query = parsedOrUsage(
        failedJobsQuery,
        { type: values.type, failedReasonContains: values.reason, limit: values.limit, offset: values.offset },
        'jobs failed',
      );
      const jobs = await withOperations(config, ({ jobs, inbox }) => new FailedJobs(jobs.queue, inbox).list(query, query.limit, query.offset));
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
      const job = await withOperations(config, ({ jobs, inbox }) => new FailedJobs(jobs.queue, inbox).inspect(id));
      if (job === undefined) return notFound(io, id);
      io.out(jsonText(job, 2));
      return EXIT.ok;
    }
    case 'retry': {
      const id = parsedOrUsage(jobId, singleArgument(args, 'jobs retry', 'job id'), 'job id');
      const outcome = await withOperations(config, ({ jobs, inbox }) => new FailedJobs(jobs.queue, inbox).retry(id));
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
      const result = await withOperations(config, ({ jobs, inbox, database }) => new FailedJobQuarantiner(jobs.queue, inbox, new QuarantineStore(database.prisma)).setAside(id));
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
      const result = await withOperations(config, ({ jobs, inbox }) => new FailedJobs(jobs.queue, inbox).retryMatching(filter, filter.limit));
      io.out(values.json ? jsonText(result, 2) : `retried ${result.retried} of ${result.matched} matching failed job(s)`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown jobs command: ${subcommand ?? '(none)'}`);
  }
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
