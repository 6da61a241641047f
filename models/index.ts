/**
 * Local models. So far: GGUF files (a streaming writer; a header-only reader that validates a
 * model file and reports its architecture, context length, quantization and vocabulary size),
 * generated test models with seeded random weights (gibberish by design) for tests, demos
 * and benchmarks, and the model store of a data dir (add, link, list, remove, pull by URI).
 * Errors are typed: InvalidModelFileError (with a stable `reason`), ModelOptionsError,
 * ModelNotFoundError, ModelExistsError, InvalidModelNameError, InvalidModelUriError; an abort
 * is base/errors.ts's AbortedError.
 */
export * from './gguf/index.js'
export * from './testmodel/index.js'
export * from './store/index.js'
export * from './grammar/index.js'
export { InvalidModelFileError, ModelOptionsError, type InvalidModelFileReason } from './errors.js'
export * from './fetch/index.js'
