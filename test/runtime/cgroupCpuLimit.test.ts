import { cgroupCpuLimit } from '../../src/runtime/cgroupCpuLimit';

const files = (contents: Record<string, string>) => (file: string) => contents[file];

describe('cgroupCpuLimit', () => {
  test.each([
    ['200000 100000\n', 2],
    ['150000 100000\n', 2],
    ['50000 100000\n', 1],
    ['max 100000\n', undefined],
  ])('cgroup v2 cpu.max %j is %p CPUs', (cpuMax, cpus) => {
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': cpuMax }))).toBe(cpus);
  });

  test.each([
    ['100000\n', 1],
    ['250000\n', 3],
    ['-1\n', undefined],
  ])('cgroup v1 cfs_quota_us %j over a period of 100000 is %p CPUs', (quota, cpus) => {
    const read = files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': quota, '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' });
    expect(cgroupCpuLimit(read)).toBe(cpus);
  });

  test('no cgroup files means no limit', () => {
    expect(cgroupCpuLimit(files({}))).toBeUndefined();
  });
});
