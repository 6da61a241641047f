import { defineConfig } from 'vitest/config'
import LongestFirst from './test/sequencer.js'

// Mesh tests run up to five nodes in one process, each with its own LevelDB, whose reads and
// fsynced writes all queue on libuv's threadpool (4 threads by default). The forks inherit this.
process.env.UV_THREADPOOL_SIZE ??= '16'
// The suite checks behaviour, not the CPU policy: a node's task and model workers run at
// nice 10 / 5 by default, and beside other work on 2 cores (CI, `stress-ng`) they would get a
// tenth of the share the test itself gets, and the suite would take twice as long. The node
// processes the tests spawn inherit these; test/tasks/priority.test.ts sets its own niceness.
process.env.GRYPHGEN_TASK_NICE ??= '0'
process.env.GRYPHGEN_MODEL_NICE ??= '0'

// Pure tests (no node, no worker, no process of their own making) share their forks: loading
// the code once per fork instead of once per file saves about two thirds of their CPU time.
const PURE = ['test/unit/**/*.test.ts', 'test/scheduler/**/*.test.ts', 'test/ledger/**/*.test.ts']

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'pure', include: PURE, isolate: false } },
      { extends: true, test: { name: 'nodes', include: ['test/**/*.test.ts'], exclude: PURE } },
    ],
    setupFiles: ['./base/polyfill.ts', './test/cpu-account.ts'],
    globalSetup: ['./test/global-setup.ts'],
    pool: 'forks',
    // Safety nets, not assertions: a busy machine must pass (waits are on conditions; timing
    // targets live in the benchmarks). A test that hangs still fails, in 3 minutes at most.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Three files at once on two cores: most of a node test's time is waiting (for peers,
    // processes, leases, fsyncs), so a third file fills those waits; beside other work
    // (`stress-ng --cpu 2`) the suite also gets a larger share of the cores. More starves the
    // process tests' meshes. Measured: see docs/ARCHITECTURE.md, "The suite on a busy machine".
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
    reporters: ['default'],
  },
})
