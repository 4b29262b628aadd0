import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings of a service process that pay for themselves, measured on the bench's workloads.
 * Set before anything else is loaded: V8 reads them at every full collection and at every
 * WebAssembly compilation that comes after.
 *
 * After each full collection V8 lets the old generation grow to up to 4 times what survived it
 * before the next one: under a steady stream of deliveries (large bodies, projection batches) the
 * heap of a service process grows far beyond its live data, and pods are sized by their peak.
 * Twice the live data is enough. Measured: peak RSS of the api 184 → 141 MB (1,700 events per
 * delivery) and 202 → 144 MB (50 events, 32 in flight), of the worker 263–273 → 221–232 MB; the
 * main thread's GC pauses and the CPU per request stayed within the noise.
 */
setFlagsFromString('--heap-growing-percent=100');

/**
 * Prisma's query compiler is a WebAssembly module, compiled when Prisma is first used. V8 compiles
 * it twice: at once with its baseline compiler (Liftoff), then in the background again with its
 * optimizing one, whose work and code a process never gives back: 15 MB for the build for size
 * that the schema chooses, 65 MB for the fast one (measured: RSS after Prisma's first query 89 →
 * 74 MB and 151 → 86 MB). The service's hot statements are raw SQL, which Prisma runs without its
 * compiler; the few typed queries (quarantine, backfill progress) are operators' and compile fast
 * enough in baseline code. Measured on the bench's projection drain, with both (and two projection
 * batches in flight instead of four, ProjectionWorker.ts): peak RSS of the
 * worker 225–242 → 179–181 MB, and about 25% less worker CPU per event, the background
 * compilation no longer competing with the projection.
 */
setFlagsFromString('--liftoff-only');
