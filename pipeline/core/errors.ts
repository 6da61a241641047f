/** Typed errors of the build pipeline's pure core (stable names; callers match on `err.name`). */
import { GryphgenError } from '../../base/index.js'

/** A build request is invalid; `details` lists every problem as "path: problem". */
export class InvalidBuildSpecError extends GryphgenError {
  constructor (problems: string[]) {
    super(`invalid build specification: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`, { details: problems })
  }

  get problems (): string[] { return this.details as string[] }
}

/** The generator's answer is not the files JSON (cut off at maxTokens, not JSON, or another shape). */
export class GeneratedFilesError extends GryphgenError {}
