import { availableParallelism } from 'node:os';
import { cgroupCpuLimit } from './cgroupCpuLimit';

// Signature checks run in libuv's thread pool. Its default of four threads on a two-core machine
// keeps preempting the event loop; one thread per core served about 10% more webhooks per second
// (npm run bench). In a container the cores are those of its CPU limit, not the node's. libuv reads
// the variable when the pool first starts, so this module must be imported before anything else
// runs. An operator's own setting wins.
process.env.UV_THREADPOOL_SIZE ??= String(Math.min(availableParallelism(), cgroupCpuLimit() ?? Infinity));
