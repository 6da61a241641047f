/**
 * Writes a GGUF test model: llama architecture, seeded random weights, a byte-fallback
 * SentencePiece vocabulary and a ChatML template (models/testmodel). It loads and runs in
 * llama.cpp like any model, but its output is gibberish by design: it is for tests, the demo
 * and throughput benchmarks (speed does not depend on the weights' values). For real use,
 * add or pull a real model.
 *
 *   npm run make-test-model -- --out PATH [--shape tiny|1b] [--seed N] [--quant q4_0|q8_0|f16] [--fim]
 *   npm run make-test-model -- --out PATH --answer-files DIR
 *
 * `--answer-files DIR` writes a scripted model instead (models/testmodel/scripted.ts): it
 * answers every prompt with the files of DIR (top level) in the build loop's `{ files }`
 * shape, so `gryphgen build` can be tried to "done" without a real model. `--fim` adds
 * fill-in-the-middle tokens (`<fim_prefix>`, `<fim_suffix>`, `<fim_middle>`): /v1/completions
 * then takes a `suffix`.
 * `tiny` (default) is ~90 KB and generates in milliseconds; `1b` has TinyLlama-1.1B's shape
 * (~620 MB in q4_0, the default quant): write it outside the repository. Same flags, same bytes.
 * Exit codes: 0 written, 1 failed, 2 bad usage.
 */
import { parseArgs } from 'node:util'
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { filesAnswerPieces, writeScriptedModel, writeTestModel, TEST_MODEL_SHAPES, type TestModelQuant, type TestModelShapeName } from '../models/index.js'

const usage = 'usage: npm run make-test-model -- --out PATH [--shape tiny|1b] [--seed N] [--quant q4_0|q8_0|f16] [--fim] | --out PATH --answer-files DIR'

let values: { out?: string, shape: string, seed: string, quant: string, fim?: boolean, 'answer-files'?: string, help?: boolean }
try {
  values = parseArgs({
    options: {
      out: { type: 'string' },
      shape: { type: 'string', default: 'tiny' },
      seed: { type: 'string', default: '1' },
      quant: { type: 'string', default: 'q4_0' },
      fim: { type: 'boolean' },
      'answer-files': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values
} catch (err) {
  console.error(`${(err as Error).message}\n${usage}`)
  process.exit(2)
}
if (values.help === true) {
  console.log(usage)
  process.exit(0)
}
if (values.out === undefined || !/^\d+$/.test(values.seed)) {
  console.error(values.out === undefined ? `--out is required\n${usage}` : `--seed must be a non-negative integer\n${usage}`)
  process.exit(2)
}

const controller = new AbortController()
process.once('SIGINT', () => controller.abort())
const started = performance.now()
// Relative paths are the caller's: `npm run` starts scripts in the repository root and says
// in INIT_CWD where the user ran it.
const callerDir = process.env.INIT_CWD ?? process.cwd()
const outPath = resolve(callerDir, values.out)
const answerDir = values['answer-files'] === undefined ? undefined : resolve(callerDir, values['answer-files'])
if (answerDir !== undefined) {
  try {
    const names = (await readdir(answerDir, { withFileTypes: true })).filter(e => e.isFile()).map(e => e.name).sort()
    if (names.length === 0) { console.error(`make-test-model: no files in ${answerDir}`); process.exit(2) }
    const files = Object.fromEntries(await Promise.all(names.map(async n => [n, await readFile(join(answerDir, n), 'utf8')] as const)))
    const info = await writeScriptedModel({ path: outPath, pieces: filesAnswerPieces(files), signal: controller.signal })
    console.log(`${info.path}: scripted model, ${(info.bytes / 1e3).toFixed(0)} KB; it answers every prompt with ${names.join(', ')}`)
    process.exit(0)
  } catch (err) {
    const e = err as Error & { name: string }
    console.error(`make-test-model: ${e.name}: ${e.message}`)
    process.exit(e.name === 'ModelOptionsError' || e.name === 'Error' ? 2 : 1)
  }
}
try {
  const info = await writeTestModel({
    path: outPath,
    shape: values.shape as TestModelShapeName,
    seed: Number(values.seed),
    quant: values.quant as TestModelQuant,
    fim: values.fim === true,
    signal: controller.signal,
  })
  const d = TEST_MODEL_SHAPES[info.shape]
  console.log(`${info.path}: ${info.name}, ${(info.bytes / 1e6).toFixed(1)} MB, ${(info.parameterCount / 1e6).toFixed(1)}M parameters ` +
    `(vocab ${d.vocabSize}, embedding ${d.embeddingLength}, ${d.blockCount} layers, ${d.headCount}/${d.headCountKv} heads, ` +
    `ff ${d.feedForwardLength}, context ${d.contextLength}) in ${((performance.now() - started) / 1000).toFixed(1)} s; random weights: gibberish by design`)
} catch (err) {
  const e = err as Error & { name: string }
  console.error(`make-test-model: ${e.name}: ${e.message}`)
  process.exit(e.name === 'ModelOptionsError' ? 2 : 1)
}
