/**
 * Log probabilities of the tokens a generation produced, measured after it on the same
 * sequence: the generated tokens are evaluated again (the prompt's cache kept) with
 * node-llama-cpp's per-token probabilities, which come from the raw distribution (temperature
 * 1, no top-k/top-p/min-p, no grammar), as OpenAI reports them. Costs one more evaluation of
 * the answer's tokens and a vocabulary-sized map per token: only when asked for.
 */
import type { LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp'
import type { TokenLogprob } from '../../protocols/index.js'

/** What a token the distribution gives no chance gets (JSON has no -Infinity; OpenAI uses the same). */
export const LOGPROB_FLOOR = -9999

const RAW = { temperature: 1, topK: 0, topP: 1, minP: 0 } as const

export async function scoreGenerated (model: LlamaModel, sequence: LlamaContextSequence, generated: readonly Token[], top: number): Promise<TokenLogprob[]> {
  if (generated.length === 0) return []
  const context = sequence.contextTokens
  // The sequence holds the prompt and some prefix of the answer (the last sampled token is
  // usually not evaluated): find where the prompt ends.
  let kept = Math.min(generated.length, context.length - 1)
  while (kept > 0 && !endsWith(context, generated.slice(0, kept))) kept--
  const promptEnd = context.length - kept
  if (promptEnd < 1) return []
  const last = context[promptEnd - 1]
  await sequence.eraseContextTokenRanges([{ start: promptEnd - 1, end: context.length }])
  const input = [last, ...generated.slice(0, -1)].map(token => [token, { generateNext: { probabilities: true, options: RAW } }] as [Token, { generateNext: { probabilities: true, options: typeof RAW } }])
  const outputs = await sequence.controlledEvaluate(input)
  return generated.map((token, i) => {
    const probabilities = outputs[i]?.next?.probabilities ?? new Map<Token, number>()
    const before = generated.slice(Math.max(0, i - 8), i)
    const alternatives = [...probabilities].slice(0, top).map(([t, p]) => ({ ...piece(model, t, before), logprob: logOf(p) }))
    return { ...piece(model, token, before), logprob: logOf(probabilities.get(token) ?? 0), top: alternatives }
  })
}

/** A token's text where it stands (after `before`: a leading space is kept, as in the answer). */
function piece (model: LlamaModel, token: Token, before: readonly Token[] = []): { token: string, bytes: number[] } {
  const text = model.detokenize([token], false, before)
  return { token: text, bytes: [...Buffer.from(text, 'utf8')] }
}

const logOf = (p: number): number => p > 0 ? Math.max(LOGPROB_FLOOR, Math.min(0, Math.log(p))) : LOGPROB_FLOOR

function endsWith (tokens: readonly Token[], tail: readonly Token[]): boolean {
  const start = tokens.length - tail.length
  return start >= 0 && tail.every((t, i) => tokens[start + i] === t)
}
