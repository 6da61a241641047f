/** Typed task errors (stable names; the API maps them to HTTP statuses). */
import { GryphgenError } from '../base/index.js'

/** A submitted task body is invalid; `details` lists every problem (HTTP 400). */
export class InvalidTaskError extends GryphgenError {
  get problems (): string[] { return (this.details as string[] | undefined) ?? [] }
}

/** The task is in a state that does not allow the request, e.g. cancelling a finished task (HTTP 409). */
export class TaskConflictError extends GryphgenError {}

/** A `replicated` submission is durable here, but no other node confirmed it in time (HTTP 503). */
export class ReplicationError extends GryphgenError {}

/** The node is stopping and takes no new tasks (HTTP 503). */
export class TasksStoppedError extends GryphgenError {}
