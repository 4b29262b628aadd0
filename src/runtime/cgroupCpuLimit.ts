import { readFileSync } from 'node:fs';

/**
 * The CPUs this process may use by its cgroup's CPU quota (a Kubernetes CPU limit, `docker run --cpus`), rounded
 * up; undefined without a quota. Node 20's availableParallelism() counts the node's cores and ignores the quota.
 */
export function cgroupCpuLimit(read: (file: string) => string | undefined = readIfPresent): number | undefined {
  // cgroup v2: "<quota> <period>", quota "max" without a limit; cgroup v1: two files, quota -1 without a limit.
  const [quota, period] = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/) ?? [
    read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'),
    read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'),
  ];
  const cpus = Number(quota) / Number(period);
  return cpus > 0 && Number.isFinite(cpus) ? Math.ceil(cpus) : undefined;
}

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
