/**
 * The `build` task kind: a specification and a test suite in, files that pass the tests out
 * (loop.ts). The body is checked by pipeline/core's validateBuildSpec (every problem listed);
 * budgets not given get defaults. The coordinator needs no worker slot: it waits on its
 * steps, which are tasks of their own.
 */
import Type from 'typebox'
import { admitModel, InvalidTaskError, type CorpusRef, type KindContext, type TaskKind, type TaskSpec } from '../../tasks/index.js'
import { InvalidBuildSpecError, validateBuildSpec, type BuildSpec } from '../core/index.js'
import { runBuild, type Retrieval } from './loop.js'
import { DEFAULT_GENERATION, type GenerationOptions } from './steps.js'

export const DEFAULT_BUDGET = { maxAttempts: 5, maxTokens: 200_000, maxWallMs: 30 * 60_000 }

const Files = Type.Record(Type.String(), Type.String())
const SPEC_FIELDS = ['specification', 'files', 'tests', 'language', 'model', 'budget', 'forbiddenPaths'] as const

/** The BuildSpec inside a task spec (defaults filled); InvalidTaskError listing every problem. */
export function buildSpecOf (spec: TaskSpec): BuildSpec {
  const fields: Record<string, unknown> = Object.fromEntries(SPEC_FIELDS.filter(k => spec[k] !== undefined).map(k => [k, spec[k]]))
  fields.budget = { ...DEFAULT_BUDGET, ...(spec.budget as Record<string, unknown> | undefined) }
  try {
    return validateBuildSpec(fields)
  } catch (err) {
    if (!(err instanceof InvalidBuildSpecError)) throw err
    const problems = err.problems
    throw new InvalidTaskError(`invalid build task: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`, { details: problems })
  }
}

const RETRIEVED_CHUNKS = 8

/** The corpus's top chunks for the specification; a corpus that cannot be read is reported, and the build goes on without it. */
async function retrieve (spec: TaskSpec, query: string, context: KindContext): Promise<{ retrieved: Array<{ source: string, text: string }>, retrieval?: Retrieval }> {
  const name = spec.corpus as string | undefined
  if (name === undefined) return { retrieved: [] }
  if (context.retrieve === undefined) return { retrieved: [], retrieval: { corpus: name, chunks: 0, error: 'this node has no corpora' } }
  try {
    const retrieved = await context.retrieve({ name, ...(spec.corpusRef === undefined ? {} : { ref: spec.corpusRef as CorpusRef }) }, query, { k: RETRIEVED_CHUNKS, signal: context.signal })
    return { retrieved, retrieval: { corpus: name, chunks: retrieved.length } }
  } catch (err) {
    context.signal.throwIfAborted()
    return { retrieved: [], retrieval: { corpus: name, chunks: 0, error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 512) } }
  }
}

export const buildKind: TaskKind = {
  name: 'build',
  fields: {
    specification: Type.String({ maxLength: 65_536 }),
    files: Type.Optional(Files),
    tests: Type.Object({ files: Files, command: Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 256 }) }, { additionalProperties: false }),
    language: Type.String({ maxLength: 32 }),
    model: Type.String({ minLength: 1, maxLength: 128 }),
    corpus: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** The corpus as a blob: set by the node the task is submitted to, so any coordinator has the same context. */
    corpusRef: Type.Optional(Type.Object({
      name: Type.String({ minLength: 1, maxLength: 128 }),
      digest: Type.String({ pattern: '^[0-9a-f]{64}$' }),
      size: Type.Integer({ minimum: 0 }),
      from: Type.String({ minLength: 1, maxLength: 128 }),
    }, { additionalProperties: false })),
    budget: Type.Optional(Type.Object({
      maxAttempts: Type.Optional(Type.Integer()),
      maxTokens: Type.Optional(Type.Integer()),
      maxWallMs: Type.Optional(Type.Integer()),
      maxStepRetries: Type.Optional(Type.Integer()),
    }, { additionalProperties: false })),
    forbiddenPaths: Type.Optional(Type.Array(Type.String({ maxLength: 512 }), { maxItems: 64 })),
    /** How the generator writes (defaults: DEFAULT_GENERATION). */
    generation: Type.Optional(Type.Object({
      temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
      maxFileChars: Type.Optional(Type.Integer({ minimum: 16, maximum: 262_144 })),
      maxPathChars: Type.Optional(Type.Integer({ minimum: 8, maximum: 1024 })),
    }, { additionalProperties: false })),
  },
  defaults: { cpus: 0, memoryMb: 0 },
  workerKind: null,
  needsSandbox: false,
  // Its model must be served now; a corpus of the node it is submitted to travels with it as a
  // blob (an unknown corpus is a 404 here, not a surprise on the coordinating node later).
  admit: async (body, context) => {
    await admitModel(body, context)
    if (typeof body.corpus !== 'string' || body.corpusRef !== undefined) return body
    return { ...body, corpusRef: await context.shareCorpus(body.corpus, { signal: context.signal }) }
  },
  check: spec => { buildSpecOf(spec) },
  prepare: spec => ({ ...spec, budget: buildSpecOf(spec).budget }),
  execute: async (spec, context) => {
    const build = buildSpecOf(spec)
    const { retrieved, retrieval } = await retrieve(spec, build.specification, context)
    return runBuild({ spec: build, retrieved, ...(retrieval === undefined ? {} : { retrieval }), generation: { ...DEFAULT_GENERATION, ...(spec.generation as Partial<GenerationOptions> | undefined) } }, context)
  },
}
