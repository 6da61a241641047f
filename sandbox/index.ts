/**
 * The sandbox: runs untrusted commands under bubblewrap with every namespace unshared, no
 * network, a seccomp filter, a uid of their own (when the node is root) and cgroup or rlimit
 * limits; returns their output, exit status, limits hit, usage and the files they produced.
 * See docs/SANDBOX.md for what is contained and what is not.
 */
export {
  runSandboxed, probeSandbox, createSandbox,
  type Sandbox, type SandboxInit, type SandboxProbe, type SandboxCallOptions,
} from './sandbox.js'
export type { SandboxResult, SandboxUsage } from './run.js'
export type { CollectedFile } from './collect.js'
export { COLLECT_BOUNDS } from './collect.js'
export type { LimitHit } from './outcome.js'
export type { LimitsBackendName, ToolCandidates } from './host.js'
export { SANDBOX_TYPESCRIPT } from './host.js'
export {
  DEFAULT_LIMITS, DEFAULT_ENV, LIMIT_BOUNDS, SPEC_BOUNDS, validateSpec,
  type SandboxSpec, type SandboxLimits, type LimitName, type ValidatedSpec,
} from './spec.js'
export {
  parseTestOutput, parsePytestOutput, parseNodeTestOutput,
  type TestReport, type TestFailure, type TestRunner,
} from './test-output.js'
export { InvalidSandboxSpecError, SandboxUnavailableError, SandboxSetupError, SandboxBusyError } from './errors.js'
