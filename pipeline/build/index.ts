/** The `build` task kind: the software-production loop's I/O (steps as tasks, checkpoints in the ledger). */
export { buildKind, buildSpecOf, DEFAULT_BUDGET } from './kind.js'
export { runBuild, type BuildRun } from './loop.js'
