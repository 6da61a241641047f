import { describe, expect, test } from 'vitest'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { explainSchemaErrors, nearestName } from '../../protocols/index.js'

const Schema = Type.Object({
  priority: Type.Optional(Type.Integer()),
  mode: Type.Optional(Type.Union([Type.Literal('fast'), Type.Literal('safe')])),
  nested: Type.Optional(Type.Object({ memoryMb: Type.Optional(Type.Integer()) }, { additionalProperties: false })),
}, { additionalProperties: false })
const check = Compile(Schema)
const explain = (value: unknown): string[] => explainSchemaErrors([...check.Errors(value)], Schema)

describe('schema errors in words', () => {
  test('an unknown field is named once, with the likely intended one', () => {
    expect(explain({ priorty: 1 })).toEqual(['unknown field `priorty` (did you mean `priority`?)'])
    expect(explain({ nested: { memroyMb: 1 } })).toEqual(['unknown field `memroyMb` in nested (did you mean `memoryMb`?)'])
    expect(explain({ zzz: 1 })).toEqual(['unknown field `zzz`'])
  })

  test('a union of constants is one problem listing the choices', () => {
    expect(explain({ mode: 'slow' })).toEqual(['mode must be one of "fast", "safe"'])
  })

  test('other problems keep the validator message at a dotted path', () => {
    expect(explain({ priority: 'high' })[0]).toMatch(/^priority: /)
  })

  test('nearest name: close misspellings only', () => {
    expect(nearestName('priorty', ['priority', 'kind'])).toBe('priority')
    expect(nearestName('Kind', ['priority', 'kind'])).toBe('kind')
    expect(nearestName('colour', ['priority', 'kind'])).toBeUndefined()
  })
})
