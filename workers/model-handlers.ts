/**
 * The `model` worker kind's task handlers: generate, embed and status, around one ModelHost
 * per worker process, made (and node-llama-cpp imported) on the first model task. Inputs are
 * checked against protocols/model.ts first; a bad one is InvalidTaskDataError. Generated text
 * streams as progress frames `{ stage: TOKEN_STAGE, done: tokens so far, message: text }`,
 * a long piece split into several frames.
 *
 * Light on purpose: workers/handlers.ts imports this module in every worker process.
 */
import { InvalidMessageError, type Logger } from '../base/index.js'
import { checkEmbedInput, checkGenerateInput, checkStatusInput, MODEL_TASK_TYPES, TOKEN_STAGE, type TaskProgress } from '../protocols/index.js'
import { InvalidTaskDataError } from './errors.js'
import type { ModelHost } from '../models/host/index.js'

/** The slice of workers/handlers.ts's TaskContext these handlers use. */
interface ModelTaskContext { signal: AbortSignal, progress: (progress: TaskProgress) => void, logger: Logger }
type ModelTaskHandler = (input: unknown, context: ModelTaskContext) => Promise<unknown>

/** The longest `message` a progress frame carries (protocols/worker.ts). */
export const TOKEN_MESSAGE_MAX = 1024

let shared: Promise<ModelHost> | undefined

async function host (context: ModelTaskContext): Promise<ModelHost> {
  shared ??= import('../models/host/index.js').then(({ ModelHost }) => new ModelHost({ logger: context.logger }))
  return await shared
}

/** Stops the process's ModelHost, if one was made: unloads every model. */
export async function disposeModelTaskHost (): Promise<void> {
  const current = shared
  shared = undefined
  await (await current)?.dispose()
}

export function modelTaskHandlers (): Map<string, ModelTaskHandler> {
  return new Map<string, ModelTaskHandler>([
    [MODEL_TASK_TYPES.generate, async (input, context) => {
      const request = checked(() => checkGenerateInput(input))
      return await asTaskData(async () => await (await host(context)).generate(request, {
        signal: context.signal,
        onToken: (text, tokensSoFar) => {
          for (const message of splitTokenText(text)) context.progress({ stage: TOKEN_STAGE, done: tokensSoFar, message })
        },
      }))
    }],
    [MODEL_TASK_TYPES.embed, async (input, context) => {
      const request = checked(() => checkEmbedInput(input))
      return await (await host(context)).embed(request, { signal: context.signal })
    }],
    [MODEL_TASK_TYPES.status, async (input, context) => {
      // A status task may come without input at all.
      const { settings } = checked(() => checkStatusInput(input ?? {}))
      return await (await host(context)).status(settings, { signal: context.signal })
    }],
  ])
}

/** Pieces of at most TOKEN_MESSAGE_MAX UTF-16 units, never splitting a surrogate pair. */
export function splitTokenText (text: string): string[] {
  if (text.length <= TOKEN_MESSAGE_MAX) return [text]
  const pieces: string[] = []
  let piece = ''
  for (const char of text) {
    if (piece.length + char.length > TOKEN_MESSAGE_MAX) {
      pieces.push(piece)
      piece = ''
    }
    piece += char
  }
  if (piece !== '') pieces.push(piece)
  return pieces
}

function checked<T> (check: () => T): T {
  try {
    return check()
  } catch (err) {
    if (err instanceof InvalidMessageError) throw new InvalidTaskDataError(err.message, { cause: err })
    throw err
  }
}

/** The host's InvalidModelRequestError is the pool's InvalidTaskDataError on the wire. */
async function asTaskData<T> (run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if ((err as Error).name === 'InvalidModelRequestError') throw new InvalidTaskDataError((err as Error).message, { cause: err, details: (err as { details?: unknown }).details })
    throw err
  }
}
