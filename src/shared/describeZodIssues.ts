import { z } from 'zod';

/** One line naming the first `limit` problems, each as `path: message` (just the message at the top level). */
export function describeZodIssues(error: z.ZodError, limit = Number.POSITIVE_INFINITY): string {
  return error.issues
    .slice(0, limit)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
