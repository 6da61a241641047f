/**
 * The model host's typed errors; callers match on `err.name` (they cross the worker wire by
 * name, with `retryable` and `details`). None of them is retryable: the same request on the
 * same worker would fail the same way. An abort is base/errors.ts's AbortedError; a bad model
 * file is models/errors.ts's InvalidModelFileError; a JSON schema outside node-llama-cpp's
 * subset is models/grammar's InvalidJsonSchemaProblemsError, whose `name` is
 * `InvalidJsonSchemaError`.
 */
import { GryphgenError } from '../../base/index.js'

export { InvalidJsonSchemaProblemsError } from '../grammar/index.js'

export class ModelHostError extends GryphgenError {
  get retryable (): boolean { return false }
}

/** The model (weights plus contexts) needs more than the whole memory budget; `details`: `{ name, neededMb, budgetMb }`. */
export class ModelTooLargeError extends ModelHostError {}

/** The prompt (or a text to embed) does not fit the context; `details`: `{ promptTokens, contextSize }`. */
export class PromptTooLongError extends ModelHostError {}

/** llama.cpp could not load the model or create its context (a corrupt file, too little memory); `details`: `{ name, path }`. */
export class ModelLoadError extends ModelHostError {}

/** A request with `suffix` (fill-in-the-middle) on a model without FIM prefix and suffix tokens; `details`: `{ name }`. */
export class InfillNotSupportedError extends ModelHostError {}

/** A generate request that is valid by schema but not as a whole (both or neither of messages and prompt). */
export class InvalidModelRequestError extends ModelHostError {}
