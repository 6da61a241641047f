/**
 * How a streamed answer's tool calls and log probabilities are cut into chunks, as OpenAI
 * streams them (pure). Tool calls: per call, one delta with `index`, `id`, `type` and the
 * function's name (arguments empty), then the arguments in fragments, each a delta of its own.
 * Log probabilities: one content chunk per token, each carrying that token's log probability,
 * so a client that concatenates `logprobs.content` over chunks gets one entry per token, next
 * to the text it belongs to. Both are known only when the answer is whole (the calls are
 * parsed from it; the log probabilities are measured after it: models/host/logprobs.ts), so
 * they are cut from the finished answer.
 */
import type { TokenLogprob, ToolCall } from '../../protocols/index.js'

/** Characters (code points) of arguments per delta. */
export const ARGUMENT_FRAGMENT_CHARS = 16

export interface ToolCallDelta {
  index: number
  id?: string
  type?: 'function'
  function: { name?: string, arguments: string }
}

export function toolCallDeltas (calls: readonly ToolCall[], fragmentChars = ARGUMENT_FRAGMENT_CHARS): ToolCallDelta[] {
  const deltas: ToolCallDelta[] = []
  calls.forEach((call, index) => {
    deltas.push({ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } })
    const chars = Array.from(call.arguments) // never a surrogate pair cut in two
    for (let at = 0; at < chars.length; at += fragmentChars) deltas.push({ index, function: { arguments: chars.slice(at, at + fragmentChars).join('') } })
  })
  return deltas
}

/**
 * The text as pieces, each with the log probabilities of its tokens: one piece per token when
 * the tokens spell the text exactly, else (a stop string cut the last token, a character
 * split across tokens) one piece with them all.
 */
export function logprobPieces (text: string, logprobs: readonly TokenLogprob[]): Array<{ text: string, logprobs: TokenLogprob[] }> {
  if (logprobs.length > 0 && logprobs.map(l => l.token).join('') === text) return logprobs.map(l => ({ text: l.token, logprobs: [l] }))
  return [{ text, logprobs: [...logprobs] }]
}
