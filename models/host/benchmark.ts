/**
 * The self-benchmark run once when a model is loaded: a 32-token prompt, then 16 tokens
 * generated greedily, on one sequence of the model's own context (so with its threads and
 * offload). Short by design: milliseconds on a tiny model, about half a second for a 1B model on
 * 2 cores. The rates go into HostStatus, where the node's scheduler can rank hosts by them.
 */
import type { LlamaContext, LlamaModel } from 'node-llama-cpp'

export const BENCHMARK = { promptTokens: 32, generatedTokens: 16 } as const
const TEXT = 'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '

export interface BenchmarkResult { promptTokensPerSecond: number, generationTokensPerSecond: number }

export async function selfBenchmark (model: LlamaModel, context: LlamaContext): Promise<BenchmarkResult> {
  const prompt = benchmarkPrompt(model)
  if (prompt.length === 0) return { promptTokensPerSecond: 0, generationTokensPerSecond: 0 }
  const sequence = context.getSequence()
  try {
    const started = performance.now()
    let firstAt = started
    let generated = 0
    for await (const _token of sequence.evaluate(prompt, { temperature: 0 })) {
      if (generated === 0) firstAt = performance.now()
      if (++generated > BENCHMARK.generatedTokens) break
    }
    const endedAt = performance.now()
    return {
      promptTokensPerSecond: rate(prompt.length, firstAt - started),
      // The first token came with the prompt; the next ones are generation proper.
      generationTokensPerSecond: rate(generated - 1, endedAt - firstAt),
    }
  } finally {
    await sequence.dispose()
  }
}

function benchmarkPrompt (model: LlamaModel): ReturnType<LlamaModel['tokenize']> {
  let tokens = model.tokenize(TEXT)
  while (tokens.length < BENCHMARK.promptTokens && tokens.length > 0) tokens = tokens.concat(tokens)
  return tokens.slice(0, BENCHMARK.promptTokens)
}

const rate = (tokens: number, ms: number): number => tokens <= 0 ? 0 : Math.round(tokens / Math.max(ms, 0.001) * 1000 * 10) / 10
