/** Grammar-constrained output: the JSON-schema subset that becomes a GBNF grammar. Pure. */
export { normalizeJsonSchema, InvalidJsonSchemaProblemsError } from './json-schema.js'
