/**
 * The sandbox's typed errors. Callers match on `err.name`. A spec is checked before anything
 * runs; every problem found is listed in `details` (see `problems`).
 */
import { GryphgenError } from '../base/index.js'

/** The spec (files, command, env, collect globs, limits) is invalid; nothing was run. */
export class InvalidSandboxSpecError extends GryphgenError {
  get problems (): string[] { return (this.details as string[] | undefined) ?? [] }
}

/**
 * This host cannot sandbox (no bubblewrap, no tini, no seccomp filter for this architecture,
 * or bubblewrap fails). Untrusted code is never run unsandboxed instead.
 */
export class SandboxUnavailableError extends GryphgenError {}

/** bubblewrap could not set the sandbox up for this run (it never started the command). */
export class SandboxSetupError extends GryphgenError {}

/** Every uid reserved for sandboxes is in use by a concurrent run. */
export class SandboxBusyError extends GryphgenError {}
