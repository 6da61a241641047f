/**
 * Tool (function) calling, pure: a request's tools checked and resolved into how the answer is
 * made. `auto` hands the functions to node-llama-cpp, whose chat wrapper presents them in the
 * model's own syntax and lets the model decide; `required` and a named function document the
 * functions the same way and hold the whole answer to a JSON grammar of calls (each call's
 * `arguments` to its function's parameter schema), so the calls always parse and match.
 * Conversations with earlier calls and their results become node-llama-cpp function-call
 * items, which the chat template renders.
 */
import { randomBytes } from 'node:crypto'
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions } from 'node-llama-cpp'
import type { ChatMessage, Tool, ToolCall, ToolChoice } from '../../protocols/index.js'
import { normalizeJsonSchema } from '../grammar/index.js'
import { InvalidModelRequestError } from './errors.js'

/** How the answer is made: free text, the model's choice, or calls held by a grammar. */
export type ToolMode =
  | { kind: 'none' }
  | { kind: 'auto', functions: ChatModelFunctions, parallel: boolean }
  | { kind: 'forced', functions: ChatModelFunctions, schema: Record<string, unknown>, parallel: boolean }

/** Most calls one forced answer holds with parallel calls on. */
export const MAX_PARALLEL_CALLS = 8

/** Throws InvalidModelRequestError (a choice naming no tool, tools without a chat) or InvalidJsonSchemaError. */
export function resolveToolMode (tools: readonly Tool[] | undefined, choice: ToolChoice | undefined, parallel: boolean | undefined, chat: boolean): ToolMode {
  if (tools === undefined || tools.length === 0) {
    if (choice !== undefined && choice !== 'none') throw new InvalidModelRequestError('toolChoice needs tools', { details: ['toolChoice'] })
    return { kind: 'none' }
  }
  if (!chat) throw new InvalidModelRequestError('tools need messages (a chat), not a prompt', { details: ['tools'] })
  const names = tools.map(t => t.name)
  if (new Set(names).size !== names.length) throw new InvalidModelRequestError('tool names must be unique', { details: ['tools'] })
  const effective = choice ?? 'auto'
  if (effective === 'none') return { kind: 'none' }
  const parameters = new Map(tools.map(t => [t.name, t.parameters === undefined ? { type: 'object', properties: {} } : normalizeJsonSchema(t.parameters)]))
  const functions: ChatModelFunctions = Object.fromEntries(tools.map(t => [t.name, { ...(t.description === undefined ? {} : { description: t.description }), params: parameters.get(t.name) as never }]))
  const allowParallel = parallel ?? true
  if (effective === 'auto') return { kind: 'auto', functions, parallel: allowParallel }
  const called = effective === 'required' ? names : [effective.name]
  if (typeof effective === 'object' && !names.includes(effective.name)) {
    throw new InvalidModelRequestError(`toolChoice names ${effective.name}, which is not among the tools (${names.join(', ')})`, { details: ['toolChoice'] })
  }
  const call = (name: string): Record<string, unknown> => ({
    type: 'object', properties: { name: { const: name }, arguments: parameters.get(name) }, required: ['name', 'arguments'], additionalProperties: false,
  })
  const one = called.length === 1 ? call(called[0]) : { oneOf: called.map(call) }
  // A named function is called once; `required` may call several when parallel calls are on.
  const many = allowParallel && typeof effective !== 'object'
  const schema = many ? { type: 'array', items: one, minItems: 1, maxItems: MAX_PARALLEL_CALLS } : one
  return { kind: 'forced', functions, schema, parallel: many }
}

export const newToolCallId = (): string => `call_${randomBytes(12).toString('hex')}`

/** The calls in a forced answer's JSON, or undefined when it is not whole (cut by the token limit). */
export function parseForcedCalls (text: string): ToolCall[] | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  const calls = (Array.isArray(value) ? value : [value]) as Array<{ name: string }>
  // The arguments' own text: parsing and printing again would turn a number beyond a double into null.
  const raw = argumentTexts(text, Array.isArray(value) ? 2 : 1)
  if (raw.length !== calls.length) return undefined
  return calls.map((c, i) => ({ id: newToolCallId(), name: c.name, arguments: raw[i] }))
}

/** The text of each `"arguments"` value of the objects at `depth` (1: the top object) of valid JSON. */
function argumentTexts (json: string, depth: number): string[] {
  const found: string[] = []
  let level = 0
  let start = -1
  let key = ''
  let keyStart = -1
  for (let i = 0; i < json.length; i++) {
    const ch = json[i]
    if (ch === '"') {
      const from = i
      for (i++; json[i] !== '"'; i++) if (json[i] === '\\') i++
      if (level === depth && start < 0) { key = json.slice(from + 1, i); keyStart = i }
      continue
    }
    if (ch === ':' && level === depth && start < 0 && key === 'arguments' && keyStart >= 0) { start = i + 1; continue }
    if (ch === '{' || ch === '[') level++
    else if (ch === '}' || ch === ']' || ch === ',') {
      if (ch !== ',') level--
      if (start >= 0 && level === depth - (ch === ',' ? 0 : 1)) { found.push(json.slice(start, i).trim()); start = -1; key = '' }
    }
  }
  return found
}

/**
 * Messages as node-llama-cpp's chat history: an assistant turn's tool calls become function-call
 * items holding the result of the `tool` message that answers each; a tool message that answers
 * no call (or comes before it) is shown to the model as a user turn.
 */
export function historyWithTools (messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const results = new Map<string, string>()
  for (const m of messages) if (m.role === 'tool' && m.toolCallId !== undefined) results.set(m.toolCallId, m.content)
  const answered = new Set<string>()
  for (const m of messages) for (const c of m.toolCalls ?? []) if (results.has(c.id)) answered.add(c.id)
  const history: ChatHistoryItem[] = []
  for (const m of messages) {
    switch (m.role) {
      case 'system': history.push({ type: 'system', text: m.content }); break
      case 'user': history.push({ type: 'user', text: m.content }); break
      case 'tool':
        if (m.toolCallId === undefined || !answered.has(m.toolCallId)) history.push({ type: 'user', text: `Tool result: ${m.content}` })
        break
      case 'assistant': {
        const calls = (m.toolCalls ?? []).map((c): ChatModelFunctionCall => ({ type: 'functionCall', name: c.name, params: parseArguments(c.arguments), result: results.get(c.id) ?? '' }))
        history.push({ type: 'model', response: [...(m.content === '' ? [] : [m.content]), ...calls] })
        break
      }
      default: return m.role satisfies never
    }
  }
  return history
}

function parseArguments (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
