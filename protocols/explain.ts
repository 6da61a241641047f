/**
 * Validator errors (TypeBox's or Ajv's) as one readable problem each: an unknown field is named
 * as such, with the known field it most likely misspells; a union of constants is folded into
 * "must be one of". Pure.
 */
export interface SchemaErrorLike { keyword: string, instancePath: string, message?: string, params?: unknown }

type Schema = { properties?: Record<string, Schema>, items?: Schema, anyOf?: Schema[] } | undefined

/** The object schema at a JSON pointer inside `schema` (through properties, items and unions). */
function schemaAt (schema: Schema, pointer: string): Schema {
  let at = schema
  for (const part of pointer.split('/').slice(1)) {
    if (at === undefined) return undefined
    const options = at.anyOf ?? [at]
    at = options.map(o => /^\d+$/.test(part) && o?.items !== undefined ? o.items : o?.properties?.[part]).find(s => s !== undefined)
  }
  return at
}

function distance (a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = row[j]
      row[j] = next
    }
  }
  return row[b.length]
}

/** The known name closest to `name`, if it is close enough to be a likely misspelling. */
export function nearestName (name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : distance(name, k)
    if (d < bestDistance) { best = k; bestDistance = d }
  }
  return bestDistance <= Math.max(1, Math.min(3, Math.floor(name.length / 3))) ? best : undefined
}

const dotted = (pointer: string, root: string): string => pointer === '' ? root : pointer.slice(1).replaceAll('/', '.')

export function explainSchemaErrors (errors: readonly SchemaErrorLike[], schema?: unknown, root = 'body'): string[] {
  const constants = new Map<string, unknown[]>()
  for (const e of errors) {
    if (e.keyword === 'const') constants.set(e.instancePath, [...constants.get(e.instancePath) ?? [], (e.params as { allowedValue?: unknown } | undefined)?.allowedValue])
  }
  const unknown = (parent: string, key: string): string => {
    const known = Object.keys(schemaAt(schema as Schema, parent)?.properties ?? {})
    const near = nearestName(key, known)
    const where = parent === '' ? '' : ` in ${dotted(parent, root)}`
    return `unknown field \`${key}\`${where}${near === undefined ? '' : ` (did you mean \`${near}\`?)`}`
  }
  const out = new Set<string>()
  for (const e of errors) {
    const params = (e.params ?? {}) as { additionalProperties?: string[], additionalProperty?: string }
    if (e.keyword === 'additionalProperties') {
      for (const key of params.additionalProperties ?? (params.additionalProperty === undefined ? [] : [params.additionalProperty])) out.add(unknown(e.instancePath, key))
    } else if (e.keyword === 'boolean') {
      // TypeBox reports each unknown key as a `false` schema at its own path.
      const cut = e.instancePath.lastIndexOf('/')
      out.add(unknown(e.instancePath.slice(0, cut), e.instancePath.slice(cut + 1).replaceAll('~1', '/').replaceAll('~0', '~')))
    } else if (e.keyword === 'const') {
      continue // folded into the union's problem below
    } else if (e.keyword === 'anyOf' && constants.has(e.instancePath)) {
      out.add(`${dotted(e.instancePath, root)} must be one of ${constants.get(e.instancePath)?.map(v => JSON.stringify(v)).join(', ')}`)
    } else {
      out.add(`${dotted(e.instancePath, root)}: ${e.message ?? 'is invalid'}`)
    }
  }
  return [...out]
}
