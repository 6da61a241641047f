/** A test run's outcome as a build records it (checkpoints, task results): counts and the failures. */
export type TestRunner = 'pytest' | 'node'

export interface TestFailure {
  name: string
  /** 'failed': an assertion or exception in the test; 'error': setup, hook or collection. */
  kind: 'failed' | 'error'
  message: string
}

export interface TestReport {
  runner: TestRunner
  passed: number
  failed: number
  errored: number
  skipped: number
  failures: TestFailure[]
}
