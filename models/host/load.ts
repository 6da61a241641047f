/**
 * Loading a model: the file is checked first (its GGUF header, by models/gguf, so a truncated or
 * foreign file fails with InvalidModelFileError before llama.cpp sees it), its memory is
 * estimated from node-llama-cpp's insights (weights plus the context the settings ask for),
 * then llama.cpp loads it and creates its context. A failure inside llama.cpp is a
 * ModelLoadError; an abort is AbortedError. Nothing is left allocated after a failure.
 */
import type { GgufInsights, LlamaContext, LlamaModel } from 'node-llama-cpp'
import type { HostSettings, ModelFile } from '../../protocols/index.js'
import { readGgufHeader } from '../gguf/index.js'
import { abortError } from './abort.js'
import { ModelLoadError } from './errors.js'
import type { LlamaRuntime } from './runtime.js'

export interface LoadPlan {
  insights: GgufInsights
  /** Tokens per sequence: the settings' size capped by what the model was trained for. */
  contextSize: number
  gpuLayers: 'auto' | number
  /** Weights plus the context, in bytes. */
  estimatedBytes: number
}

export async function planLoad (runtime: LlamaRuntime, file: ModelFile, settings: HostSettings, signal: AbortSignal): Promise<LoadPlan> {
  const header = await readGgufHeader(file.path, { signal })
  if (header.fileBytes !== file.bytes) {
    throw new ModelLoadError(`${file.path} has ${header.fileBytes} bytes, not the ${file.bytes} of model ${file.name}: the file changed`, { details: details(file) })
  }
  const insights = await failsAsLoadError(file, signal, async () => {
    const info = await runtime.lib.readGgufFileInfo(file.path, { signal, logWarnings: false })
    return await runtime.lib.GgufInsights.from(info, runtime.llama)
  })
  const contextSize = Math.min(settings.contextSize, insights.trainContextSize ?? settings.contextSize)
  const gpuLayers = settings.gpuLayers === 'auto' ? 'auto' : Math.min(settings.gpuLayers, insights.totalLayers)
  const context = await insights.estimateContextResourceRequirementsV2({
    contextSize, sequences: settings.sequences, modelGpuLayers: gpuLayers === 'auto' ? 0 : gpuLayers,
  })
  return { insights, contextSize, gpuLayers, estimatedBytes: insights.modelSize + context.cpuRam + context.gpuVram }
}

export interface OpenedModel { model: LlamaModel, context: LlamaContext }

export async function openModel (runtime: LlamaRuntime, file: ModelFile, settings: HostSettings, plan: LoadPlan, signal: AbortSignal): Promise<OpenedModel> {
  const model = await failsAsLoadError(file, signal, async () => await runtime.llama.loadModel({
    modelPath: file.path, gpuLayers: plan.gpuLayers, loadSignal: signal,
  }))
  try {
    const context = await failsAsLoadError(file, signal, async () => await model.createContext({
      contextSize: plan.contextSize,
      sequences: settings.sequences,
      // Ideal `threads`, but content with one while other models' contexts hold the rest of
      // the Llama's cap: models share the cores instead of queueing for all of them.
      threads: { ideal: settings.threads, min: 1 },
      createSignal: signal,
    }))
    return { model, context }
  } catch (err) {
    await model.dispose()
    throw err
  }
}

/** Bytes held by a loaded model and its context. */
export function heldBytes ({ model, context }: OpenedModel): number {
  const usage = context.memoryUsage
  return model.size + usage.ram + usage.vram
}

async function failsAsLoadError<T> (file: ModelFile, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (signal.aborted) throw abortError(signal, `loading model ${file.name}`)
    throw new ModelLoadError(`cannot load model ${file.name} from ${file.path}: ${(err as Error).message}`, { cause: err, details: details(file) })
  }
}

const details = (file: ModelFile): { name: string, path: string } => ({ name: file.name, path: file.path })
