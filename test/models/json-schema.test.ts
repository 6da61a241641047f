/** The JSON-schema subset for grammar-constrained output: what passes, how it is normalized, every problem named. */
import { describe, expect, test } from 'vitest'
import { normalizeJsonSchema, InvalidJsonSchemaProblemsError } from '../../models/grammar/index.js'

const problems = (schema: unknown): string[] => {
  try {
    normalizeJsonSchema(schema)
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidJsonSchemaProblemsError)
    expect((err as Error).name).toBe('InvalidJsonSchemaError')
    return (err as InvalidJsonSchemaProblemsError).details
  }
  return []
}

describe('normalizeJsonSchema', () => {
  test('accepts the supported subset and drops annotations', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'Review',
      type: 'object',
      properties: {
        issues: { type: 'array', items: { $ref: '#/$defs/issue' }, maxItems: 8 },
        summary: { type: 'string', maxLength: 200 },
        when: { type: 'string', format: 'date' },
        score: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
        kind: { enum: ['a', 'b', 1, null] },
        v: { const: 2 },
        pair: { type: 'array', prefixItems: [{ type: 'number' }, { type: ['string', 'null'] }], minItems: 2 },
      },
      required: ['issues', 'summary'],
      additionalProperties: false,
      $defs: { issue: { type: 'object', properties: { line: { type: 'integer' } }, examples: [{ line: 1 }] } },
    }
    const out = normalizeJsonSchema(schema)
    expect(out.title).toBeUndefined()
    expect(out.$schema).toBeUndefined()
    expect((out.properties as Record<string, { oneOf?: unknown[] }>).score.oneOf).toEqual([{ type: 'integer' }, { type: 'null' }])
    expect((out.$defs as Record<string, Record<string, unknown>>).issue.examples).toBeUndefined()
    expect(out.required).toEqual(['issues', 'summary'])
  })

  test.each([
    ['not an object', 'a string', /must be a JSON object/],
    ['no type', {}, /needs one of type/],
    ['unknown type', { type: 'date' }, /type must be one of/],
    ['keyword of another type', { type: 'string', items: {} }, /keyword "items" is not supported/],
    ['unsupported keyword', { type: 'integer', minimum: 3 }, /keyword "minimum" is not supported/],
    ['pattern is not supported', { type: 'string', pattern: '^a' }, /keyword "pattern"/],
    ['bad format', { type: 'string', format: 'email' }, /format must be one of/],
    ['dangling ref', { $ref: '#/$defs/x' }, /\$ref "#\/\$defs\/x" must name/],
    ['required not defined', { type: 'object', properties: { a: { type: 'null' } }, required: ['b'] }, /required names properties that are not defined: b/],
    ['empty enum', { enum: [] }, /enum must be a non-empty array/],
    ['negative count', { type: 'array', minItems: -1 }, /minItems must be an integer >= 0/],
    ['object in a type list', { type: ['object', 'null'] }, /a list of types/],
  ])('rejects %s', (_name, schema, message) => {
    const found = problems(schema)
    expect(found.length).toBeGreaterThan(0)
    expect(found.join('\n')).toMatch(message)
  })

  test('reports every problem with its path', () => {
    const found = problems({ type: 'object', properties: { a: { type: 'wat' }, b: { type: 'array', items: { type: 'string', maxLength: 'x' } } } })
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\/properties\/a: type must be one of/),
      expect.stringMatching(/^\/properties\/b\/items: maxLength must be an integer/),
    ]))
  })

  test('bounds depth', () => {
    let schema: Record<string, unknown> = { type: 'null' }
    for (let i = 0; i < 40; i++) schema = { type: 'array', items: schema }
    expect(problems(schema).join()).toMatch(/nested deeper than 32/)
  })
})
