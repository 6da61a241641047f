/**
 * Model benchmarks (issue 7). One command: `npm run bench:models`. On one model file
 * (default: the TinyLlama-1.1B-shaped test model, generated once into
 * ~/.cache/gryphgen/models; speed does not depend on the weights' values):
 *  1. single-stream generation tokens/s through `POST /v1/chat/completions` (streaming, on a
 *     gryphgen node process with its model worker) against node-llama-cpp called directly in
 *     this process on the same file, same threads, same prompt: target ratio >= 0.95.
 *     Generation rate = (tokens - 1) / (last token time - first token time), per request.
 *  2. aggregate generation tokens/s with 4 concurrent requests against 1 (the model worker's
 *     context sequences batch them);
 *  3. time to first token, p50, through the API (model loaded);
 *  4. llama.cpp's own llama-bench on the same file and threads, against node-llama-cpp
 *     directly (skipped when scripts/build-llama-bench.sh has not built it).
 * Direct runs and the node never run at the same time. Flags: --model PATH, --threads N
 * (default: what the node picks, autoThreads), --tokens N (default 64), --reps N (default 3).
 * Loopback only, mDNS off, the node process stopped by PID.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { getLlama, LlamaChat } from 'node-llama-cpp'
import si from 'systeminformation'
import { ModelStore, writeTestModel } from '../models/index.js'
import { autoThreads } from '../node/models/index.js'
import { LocalMesh, api, sseBlocks, until, type MeshNode } from './bench/mesh.js'
import { findLlamaBench, runLlamaBench } from './bench/llama-bench.js'
import { busy } from './bench/busy.js'

const { values } = parseArgs({ options: { model: { type: 'string' }, threads: { type: 'string' }, tokens: { type: 'string', default: '64' }, reps: { type: 'string', default: '3' }, 'direct-child': { type: 'boolean' } } })
const TOKENS = Number(values.tokens)
const REPS = Number(values.reps)
const PROMPT = 'Write a function that adds two numbers.'
const CONTEXT = 2048
const MODEL_NAME = 'bench-model'
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)] }
const fmt = (n: number | undefined, d = 1): string => n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d)
const rate = (stamps: number[]): number => stamps.length < 2 ? NaN : (stamps.length - 1) / ((stamps[stamps.length - 1] - stamps[0]) / 1000)

async function modelFile (): Promise<string> {
  if (values.model !== undefined) return resolve(process.env.INIT_CWD ?? process.cwd(), values.model)
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gryphgen', 'models')
  const path = join(dir, 'test-1b-q4_0-seed1.gguf')
  if (await stat(path).then(() => true, () => false)) return path
  await mkdir(dir, { recursive: true })
  process.stdout.write(`writing the 1B-shaped test model to ${path} (once)...\n`)
  await writeTestModel({ path, shape: '1b', seed: 1 })
  return path
}

interface Run { tokens: number, genRate: number, ttftMs: number }

/** node-llama-cpp in this process: the same chat (no system prompt), greedy, token times from onToken. */
async function direct (path: string, threads: number): Promise<Run[]> {
  const llama = await getLlama({ maxThreads: threads })
  const model = await llama.loadModel({ modelPath: path })
  const context = await model.createContext({ contextSize: CONTEXT, sequences: 1, threads })
  const runs: Run[] = []
  try {
    for (let i = 0; i <= REPS; i++) {
      const sequence = context.getSequence()
      try {
        const chat = new LlamaChat({ contextSequence: sequence })
        const stamps: number[] = []
        const start = performance.now()
        await chat.generateResponse([{ type: 'user', text: PROMPT }, { type: 'model', response: [] }], { maxTokens: TOKENS, temperature: 0, onToken: tokens => { for (let t = 0; t < tokens.length; t++) stamps.push(performance.now()) } })
        chat.dispose()
        if (i > 0) runs.push({ tokens: stamps.length, genRate: rate(stamps), ttftMs: stamps[0] - start }) // run 0 warms up
      } finally {
        sequence.dispose()
      }
    }
  } finally {
    await context.dispose()
    await model.dispose()
    await llama.dispose()
  }
  return runs
}

/** One streaming chat completion through the node's OpenAI-compatible API. */
async function chat (node: MeshNode, seed: number): Promise<Run & { wallMs: number }> {
  const start = performance.now()
  const res = await fetch(`${node.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL_NAME, messages: [{ role: 'user', content: PROMPT }], max_tokens: TOKENS, temperature: 0, seed, stream: true, stream_options: { include_usage: true } }),
    signal: AbortSignal.timeout(300_000),
  })
  if (res.status !== 200) throw new Error(`chat completion: HTTP ${res.status} ${await res.text()}`)
  const stamps: number[] = []
  let tokens = 0
  for await (const block of sseBlocks(res.body as ReadableStream<Uint8Array>)) {
    if (!block.startsWith('data: {')) continue
    const data = JSON.parse(block.slice(6)) as { choices: Array<{ delta: { content?: string } }>, usage?: { completion_tokens: number } }
    if ((data.choices[0]?.delta.content ?? '') !== '') stamps.push(performance.now())
    if (data.usage !== undefined) tokens = data.usage.completion_tokens
  }
  // Chunks are tokens (a multi-byte character may join two): rate over the token count.
  const span = (stamps[stamps.length - 1] - stamps[0]) / 1000
  return { tokens, genRate: (tokens - 1) / span, ttftMs: stamps[0] - start, wallMs: performance.now() - start }
}

async function throughApi (path: string, threads: number): Promise<{ single: Run[], ttft: number[], one: number, four: number, settings: unknown }> {
  const mesh = new LocalMesh()
  try {
    const [node] = await mesh.start([{ name: 'bench', config: { workers: { exec: { size: 0 } }, models: { threads, contextSize: CONTEXT, sequences: 4 } } }])
    await (await ModelStore.open({ dataDir: node.dir })).add(path, { name: MODEL_NAME, link: true })
    await until(async () => (await api<{ data: Array<{ id: string }> }>(node, 'GET', '/v1/models')).data.some(m => m.id === MODEL_NAME) ? true : undefined, 30_000, 200)
    await chat(node, 0) // loads the model (and its self-benchmark)
    const single: Run[] = []
    for (let i = 0; i < REPS; i++) single.push(await chat(node, i + 1))
    const ttft: number[] = single.map(r => r.ttftMs)
    const oneStart = performance.now()
    const solo = await chat(node, 100)
    const one = solo.tokens / ((performance.now() - oneStart) / 1000)
    const fourStart = performance.now()
    const four = await Promise.all([1, 2, 3, 4].map(async s => chat(node, 200 + s)))
    const fourRate = four.reduce((n, r) => n + r.tokens, 0) / ((performance.now() - fourStart) / 1000)
    const described = await api<{ capabilities: { models: unknown[] } }>(node, 'GET', '/v1/node')
    return { single, ttft, one, four: fourRate, settings: described.capabilities.models }
  } finally {
    await mesh.stop()
  }
}

/**
 * The direct runs happen in a child process of this script, with the libuv pool given: the
 * default (4, what a program calling node-llama-cpp gets) and 1 (what the model worker runs with).
 */
async function directIn (path: string, threads: number, uvThreads: number): Promise<Run[]> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--direct-child', '--model', path, '--threads', String(threads), '--tokens', String(TOKENS), '--reps', String(REPS)], {
    env: { ...process.env, UV_THREADPOOL_SIZE: String(uvThreads) }, stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  if (code !== 0) throw new Error(`direct run (UV_THREADPOOL_SIZE=${uvThreads}) exited ${String(code)}`)
  return JSON.parse(out.trim().split('\n').pop() ?? '[]') as Run[]
}

async function main (): Promise<void> {
  if (values['direct-child'] === true) {
    process.stdout.write(`${JSON.stringify(await direct(values.model as string, Number(values.threads)))}\n`)
    return
  }
  const cpu = await si.cpu()
  const cores = Math.max(1, cpu.physicalCores || 1)
  const threads = values.threads === undefined ? autoThreads(cores) : Number(values.threads)
  const path = await modelFile()
  if ((await stat(path)).size < 50 * 1024 * 1024) process.stdout.write('note: a model this small generates faster than tokens can be timed one by one (chunks arrive together); the ratios below say little. The target is judged on the default 1B-shaped model.\n')
  process.stdout.write(`model ${path}\nmachine: ${cpu.brand}, ${cores} physical cores; threads per context: ${threads} (node default: autoThreads(${cores}) = ${autoThreads(cores)}); ${TOKENS} tokens, ${REPS} reps, greedy\n\n`)

  const plainRuns = await directIn(path, threads, 4)
  const directRuns = await directIn(path, threads, 1)
  const api1 = await throughApi(path, threads)
  const plainRate = median(plainRuns.map(r => r.genRate))
  const directRate = median(directRuns.map(r => r.genRate))
  const apiRate = median(api1.single.map(r => r.genRate))
  process.stdout.write('1. single-stream generation, tokens/s (median)\n')
  process.stdout.write(`   node-llama-cpp directly, libuv pool 4 (Node's default): ${fmt(plainRate)}   (runs: ${plainRuns.map(r => fmt(r.genRate)).join(', ')})\n`)
  process.stdout.write(`   node-llama-cpp directly, libuv pool 1 (the baseline):   ${fmt(directRate)}   (runs: ${directRuns.map(r => fmt(r.genRate)).join(', ')})\n`)
  process.stdout.write(`   via /v1/chat/completions (SSE):                         ${fmt(apiRate)}   (runs: ${api1.single.map(r => fmt(r.genRate)).join(', ')})\n`)
  process.stdout.write(`   ratio api/direct: ${fmt(apiRate / directRate, 3)}  (target >= 0.95: ${apiRate / directRate >= 0.95 ? 'met' : 'NOT met'}); ${busy.report()}\n\n`)
  process.stdout.write('2. aggregate generation, tokens/s over the whole requests\n')
  process.stdout.write(`   1 request:  ${fmt(api1.one)}\n   4 at once:  ${fmt(api1.four)}   ratio 4/1: ${fmt(api1.four / api1.one, 2)}\n\n`)
  process.stdout.write(`3. time to first token via the API, p50: ${fmt(median(api1.ttft), 0)} ms (node-llama-cpp directly, pool 1: ${fmt(median(directRuns.map(r => r.ttftMs)), 0)} ms)\n\n`)
  process.stdout.write(`   advertised: ${JSON.stringify(api1.settings)}\n\n`)

  const binary = await findLlamaBench()
  if (binary === undefined) {
    process.stdout.write('4. llama-bench: skipped (not built; run scripts/build-llama-bench.sh)\n')
    return
  }
  // Flash attention off, as node-llama-cpp's contexts default to.
  const bench = await runLlamaBench(binary, { model: path, threads, genTokens: TOKENS, promptTokens: 0, repetitions: REPS, extraArgs: ['-fa', '0'] })
  process.stdout.write(`4. single-stream generation at ${threads} thread(s), tokens/s\n`)
  process.stdout.write(`   llama-bench:                                 ${fmt(bench.generationTokensPerSecond)}\n`)
  process.stdout.write(`   node-llama-cpp directly, libuv pool 4:       ${fmt(plainRate)}   ratio ${fmt(plainRate / bench.generationTokensPerSecond, 3)}\n`)
  process.stdout.write(`   node-llama-cpp directly, libuv pool 1:       ${fmt(directRate)}   ratio ${fmt(directRate / bench.generationTokensPerSecond, 3)}\n`)
  process.stdout.write(`   gryphgen via the API (model worker, pool 1): ${fmt(apiRate)}   ratio ${fmt(apiRate / bench.generationTokensPerSecond, 3)}\n`)
}

await main()
