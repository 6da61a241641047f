import { defineConfig } from 'vitest/config'

// Mesh tests run up to five nodes in one process, each with its own LevelDB, whose reads and
// fsynced writes all queue on libuv's threadpool (4 threads by default). The forks inherit this.
process.env.UV_THREADPOOL_SIZE ??= '16'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./base/polyfill.ts'],
    globalSetup: ['./test/global-setup.ts'],
    pool: 'forks',
    // Safety nets, not assertions: a busy machine must pass (waits are on conditions; timing
    // targets live in the benchmarks). A test that hangs still fails, in 3 minutes at most.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Two cores: mesh tests start real libp2p nodes and processes; too many files at once starve them.
    maxWorkers: 2,
    reporters: ['default'],
  },
})
