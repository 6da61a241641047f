/** Typed scheduler errors (stable names; callers match on `err.name`). */
import { GryphgenError } from '../base/index.js'
import type { NodeReasons } from './types.js'

/** No node of the mesh, as it is now, can ever run the task; `details` has every node's reasons. */
export class ImpossibleTaskError extends GryphgenError {
  get reasons (): NodeReasons { return (this.details as NodeReasons | undefined) ?? {} }
}

/** A task's requirements or priority are out of range; `details` lists every problem. */
export class InvalidRequirementsError extends GryphgenError {
  get problems (): string[] { return (this.details as string[] | undefined) ?? [] }
}

/** Selection found no acceptable bid (none came, or none from a node that was asked). */
export class NoBidError extends GryphgenError {}
