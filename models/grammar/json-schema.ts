/**
 * JSON schemas for grammar-constrained output: the subset node-llama-cpp turns into a GBNF
 * grammar (type, const, enum, oneOf, properties/required/additionalProperties/min-maxProperties,
 * items/prefixItems/min-maxItems, string min-maxLength and date/time formats, $defs/$ref).
 * `normalizeJsonSchema` checks a user's schema against that subset and returns it in the form
 * the grammar builder takes: `anyOf` becomes `oneOf` (for generation they are the same
 * alternation), annotations (`title`, `$schema`, `examples`, `default`, `$id`, `$comment`) are
 * dropped. Anything else unknown is an error rather than silently unconstrained output.
 * Pure: throws InvalidJsonSchemaProblemsError listing every problem (up to 20).
 */
export class InvalidJsonSchemaProblemsError extends Error {
  override readonly name = 'InvalidJsonSchemaError'
  readonly details: string[]
  constructor (problems: string[]) {
    super(`invalid JSON schema: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`)
    this.details = problems
  }
}

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'])
const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null'])
const ANNOTATIONS = new Set(['title', '$schema', 'examples', 'default', '$id', '$comment'])
const FORMATS = new Set(['date-time', 'time', 'date'])
const MAX_DEPTH = 32
const MAX_NODES = 4096
const KEYS = {
  common: ['description', '$defs'],
  object: ['type', 'properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties'],
  array: ['type', 'items', 'prefixItems', 'minItems', 'maxItems'],
  string: ['type', 'minLength', 'maxLength', 'format'],
  scalar: ['type'],
} as const

type Json = Record<string, unknown>
interface Walk { problems: string[], nodes: number, defs: Set<string> }

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1_000_000
const isLiteral = (v: unknown): boolean => v === null || ['string', 'number', 'boolean'].includes(typeof v)

export function normalizeJsonSchema (schema: unknown): Json {
  const walk: Walk = { problems: [], nodes: 0, defs: new Set() }
  if (!isObject(schema)) throw new InvalidJsonSchemaProblemsError(['/: a schema must be a JSON object'])
  collectDefs(schema, walk)
  const out = node(schema, '', 0, walk)
  if (walk.problems.length > 0) throw new InvalidJsonSchemaProblemsError(walk.problems.slice(0, 20))
  return out
}

function collectDefs (schema: Json, walk: Walk): void {
  if (isObject(schema.$defs)) for (const key of Object.keys(schema.$defs)) walk.defs.add(key)
}

function node (schema: unknown, path: string, depth: number, walk: Walk): Json {
  const at = path === '' ? '/' : path
  if (++walk.nodes > MAX_NODES) { if (walk.nodes === MAX_NODES + 1) walk.problems.push(`schema has more than ${MAX_NODES} subschemas`); return {} }
  if (depth > MAX_DEPTH) { walk.problems.push(`${at}: nested deeper than ${MAX_DEPTH}`); return {} }
  if (!isObject(schema)) { walk.problems.push(`${at}: a schema must be a JSON object`); return {} }
  const out: Json = {}
  const problem = (message: string): void => { walk.problems.push(`${at}: ${message}`) }
  const sub = (value: unknown, key: string): Json => node(value, `${path}/${key}`, depth + 1, walk)
  if (typeof schema.description === 'string') out.description = schema.description
  if (schema.$defs !== undefined) {
    if (!isObject(schema.$defs)) problem('$defs must be an object')
    else out.$defs = Object.fromEntries(Object.entries(schema.$defs).map(([k, v]) => [k, sub(v, `$defs/${k}`)]))
  }
  const allowed = new Set<string>([...KEYS.common, ...ANNOTATIONS])
  if ('$ref' in schema) {
    allowed.add('$ref')
    const ref = schema.$ref
    const name = typeof ref === 'string' && ref.startsWith('#/$defs/') ? ref.slice('#/$defs/'.length) : undefined
    if (name === undefined || !walk.defs.has(name)) problem(`$ref ${JSON.stringify(ref)} must name an entry of the root's $defs ("#/$defs/<name>")`)
    else out.$ref = ref
  } else if ('const' in schema) {
    allowed.add('const')
    if (!isLiteral(schema.const)) problem('const must be a string, number, boolean or null')
    else out.const = schema.const
  } else if ('enum' in schema) {
    allowed.add('enum')
    if (!Array.isArray(schema.enum) || schema.enum.length === 0 || !schema.enum.every(isLiteral)) problem('enum must be a non-empty array of strings, numbers, booleans or nulls')
    else out.enum = schema.enum
  } else if ('oneOf' in schema || 'anyOf' in schema) {
    const key = 'oneOf' in schema ? 'oneOf' : 'anyOf'
    allowed.add(key)
    const options = schema[key]
    if (!Array.isArray(options) || options.length === 0) problem(`${key} must be a non-empty array of schemas`)
    else out.oneOf = options.map((o, i) => sub(o, `${key}/${i}`))
  } else {
    typed(schema, out, allowed, problem, sub)
  }
  for (const key of Object.keys(schema)) if (!allowed.has(key)) problem(`keyword ${JSON.stringify(key)} is not supported here (supported: ${[...allowed].filter(k => !ANNOTATIONS.has(k)).join(', ')})`)
  return out
}

function typed (schema: Json, out: Json, allowed: Set<string>, problem: (m: string) => void, sub: (v: unknown, key: string) => Json): void {
  const type = schema.type
  if (Array.isArray(type)) {
    allowed.add('type')
    if (type.length === 0 || !type.every(t => typeof t === 'string' && SCALAR_TYPES.has(t))) problem('a list of types may only name string, number, integer, boolean, null')
    else out.type = type
    return
  }
  if (typeof type !== 'string' || !TYPES.has(type)) {
    allowed.add('type')
    problem(type === undefined ? 'needs one of type, const, enum, oneOf/anyOf or $ref' : `type must be one of ${[...TYPES].join(', ')}`)
    return
  }
  out.type = type
  const keys = type === 'object' ? KEYS.object : type === 'array' ? KEYS.array : type === 'string' ? KEYS.string : KEYS.scalar
  for (const k of keys) allowed.add(k)
  for (const k of ['minProperties', 'maxProperties', 'minItems', 'maxItems', 'minLength', 'maxLength'] as const) {
    if (!allowed.has(k) || schema[k] === undefined) continue
    if (!isCount(schema[k])) problem(`${k} must be an integer >= 0`)
    else out[k] = schema[k]
  }
  if (type === 'string' && schema.format !== undefined) {
    if (typeof schema.format !== 'string' || !FORMATS.has(schema.format)) problem(`format must be one of ${[...FORMATS].join(', ')}`)
    else out.format = schema.format
  }
  if (type === 'object') objectKeywords(schema, out, problem, sub)
  if (type === 'array') {
    if (schema.items !== undefined) out.items = sub(schema.items, 'items')
    if (schema.prefixItems !== undefined) {
      if (!Array.isArray(schema.prefixItems)) problem('prefixItems must be an array of schemas')
      else out.prefixItems = schema.prefixItems.map((s, i) => sub(s, `prefixItems/${i}`))
    }
  }
}

function objectKeywords (schema: Json, out: Json, problem: (m: string) => void, sub: (v: unknown, key: string) => Json): void {
  const properties = schema.properties
  if (properties !== undefined) {
    if (!isObject(properties)) problem('properties must be an object of schemas')
    else out.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, sub(v, `properties/${k}`)]))
  }
  if (schema.required !== undefined) {
    const names = isObject(properties) ? Object.keys(properties) : []
    if (!Array.isArray(schema.required) || !schema.required.every(r => typeof r === 'string')) problem('required must be an array of property names')
    else {
      const unknown = schema.required.filter(r => !names.includes(r as string))
      if (unknown.length > 0) problem(`required names properties that are not defined: ${unknown.join(', ')}`)
      else out.required = schema.required
    }
  }
  const extra = schema.additionalProperties
  if (extra !== undefined) out.additionalProperties = typeof extra === 'boolean' ? extra : sub(extra, 'additionalProperties')
}
