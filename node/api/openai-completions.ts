/**
 * POST /v1/completions: OpenAI's legacy text completion, a raw prompt continued without the
 * chat template (a `generate` task with `prompt`). An array of prompts runs one task each, at
 * once, and answers one choice each (streamed: one prompt only). `suffix` makes it
 * fill-in-the-middle on a model with FIM tokens (refused as `unsupported_value` on `suffix` by
 * one without); `echo` is refused in OpenAI's shape; `logprobs: N` gives the legacy parallel
 * arrays with N alternatives a token.
 */
import type { FastifyInstance } from 'fastify'
import type { ApiTasks } from './tasks.js'
import { completionLogprobs, completionTaskBody, InvalidRequestError, parseCompletionRequest, requireModel, textCompletion, type GenerateOutcome } from './openai-convert.js'
import { cancelOnDisconnect, generateOutcome, outcomeOf, startTask, streamTask, type ApiModels, type StreamShape } from './openai-run.js'

export function completionRoute (app: FastifyInstance, tasks: ApiTasks, models: ApiModels, open: Set<() => void>): void {
  app.post('/v1/completions', async (request, reply) => {
    const completion = parseCompletionRequest(request.body)
    requireModel(completion.model, models.meshModels())
    const prompts = typeof completion.prompt === 'string' ? [completion.prompt] : completion.prompt
    const created = Math.floor(Date.now() / 1000)
    if (completion.stream === true) {
      if (prompts.length > 1) throw new InvalidRequestError('a streamed completion takes one prompt (send one request per prompt)', { param: 'prompt', code: 'unsupported_value' })
      return await streamTask(request, reply, tasks, completionTaskBody(completion, prompts[0]), completionShape(completion.model, created, completion.stream_options?.include_usage === true), open)
    }
    const runs = await Promise.all(prompts.map(async p => await startTask(tasks, completionTaskBody(completion, p))))
    for (const running of runs) cancelOnDisconnect(reply, running)
    const outcomes = await Promise.all(runs.map(async running => await generateOutcome(tasks, outcomeOf(await running.done))))
    const total = outcomes.reduce((sum, o) => ({ promptTokens: sum.promptTokens + o.usage.promptTokens, completionTokens: sum.completionTokens + o.usage.completionTokens }), { promptTokens: 0, completionTokens: 0 })
    const id = runs[0].id
    return reply.header('x-gryphgen-task', runs.map(r => r.id).join(',')).send(textCompletion(`cmpl-${id}`, completion.model, created, outcomes.map(o => ({ text: o.text, finishReason: o.finishReason, ...(o.logprobs === undefined ? {} : { logprobs: o.logprobs }) })), total))
  })
}

/** Completion chunks: text as it comes, then the rest, the log probabilities and the finish, then usage. */
function completionShape (model: string, created: number, includeUsage: boolean): StreamShape {
  const chunk = (id: string, text: string, finishReason: string | null, extra: Record<string, unknown> = {}): unknown => {
    const base = textCompletion(`cmpl-${id}`, model, created, [{ text, finishReason }])
    return { ...base, ...extra }
  }
  return {
    head: () => [],
    text: (id, text) => chunk(id, text, null),
    tail: (id, out: GenerateOutcome, rest) => {
      const last = chunk(id, rest, out.finishReason) as { choices: Array<Record<string, unknown>> }
      last.choices[0].logprobs = completionLogprobs(out.logprobs)
      const usage = { prompt_tokens: out.usage.promptTokens, completion_tokens: out.usage.completionTokens, total_tokens: out.usage.promptTokens + out.usage.completionTokens }
      return [last, ...(includeUsage ? [{ ...(chunk(id, '', null) as object), choices: [], usage }] : [])]
    },
  }
}
