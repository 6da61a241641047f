/**
 * The `generate` kind's tool fields checked at submission (the worker checks them again): tools
 * need messages, a named toolChoice must name one of them, names are unique, every
 * function's parameters are a JSON schema of the grammar subset, and jsonSchema does not come
 * with tools the model may call. Pure; throws InvalidTaskError naming each problem.
 */
import { normalizeJsonSchema } from '../../models/grammar/index.js'
import type { Tool, ToolChoice } from '../../protocols/index.js'
import { InvalidTaskError, type TaskSpec } from '../../tasks/index.js'

export function checkToolFields (spec: TaskSpec): void {
  const tools = spec.tools as Tool[] | undefined
  const choice = spec.toolChoice as ToolChoice | undefined
  const problems: string[] = []
  if (tools === undefined) {
    if (choice !== undefined && choice !== 'none') problems.push('toolChoice: needs tools')
  } else {
    if (spec.messages === undefined) problems.push('tools: need messages (a chat), not a prompt')
    const names = tools.map(t => t.name)
    if (new Set(names).size !== names.length) problems.push('tools: names must be unique')
    if (typeof choice === 'object' && !names.includes(choice.name)) problems.push(`toolChoice: ${choice.name} is not among the tools (${names.join(', ')})`)
    if (spec.jsonSchema !== undefined && choice !== 'none') problems.push('jsonSchema: cannot be used with tools (unless toolChoice is none)')
    tools.forEach((t, i) => {
      if (t.parameters === undefined) return
      try {
        normalizeJsonSchema(t.parameters)
      } catch (err) {
        for (const d of (err as { details?: string[] }).details ?? [(err as Error).message]) problems.push(`tools.${i}.parameters${d}`)
      }
    })
  }
  if (problems.length > 0) throw new InvalidTaskError(`invalid tools: ${problems.slice(0, 5).join('; ')}`, { details: problems })
}
