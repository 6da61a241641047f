/**
 * The model host: local models for a `model` worker (protocols/model.ts is its contract).
 * ModelHost loads GGUF models on demand under a memory budget and serves generate (chat or raw
 * completion, streamed token by token, optionally constrained to a JSON schema) and embed
 * requests through node-llama-cpp, which it imports on first use. The model worker kind's task
 * handlers (workers/model-handlers.ts) hold one ModelHost per worker process.
 * Not exported from models/index.ts: the host is for model worker processes. Its modules
 * import node-llama-cpp's types only; the library itself (~0.6 s to import) is loaded when a
 * host first needs llama.cpp.
 */
export { ModelHost, type ModelHostInit, type GenerateCallOptions, type EmbedCallOptions } from './host.js'
export { planAdmission, type ResidentModel, type AdmissionPlan } from './admission.js'
export { resolveGenerateRequest, toChatHistory, finishReasonOf, tokenAllowance, GENERATE_DEFAULTS, type GenerateRequest } from './request.js'
export { BENCHMARK } from './benchmark.js'
export { SlotQueue } from './slots.js'
export {
  ModelHostError, ModelTooLargeError, PromptTooLongError, ModelLoadError, InvalidModelRequestError, InvalidJsonSchemaProblemsError,
} from './errors.js'
