/**
 * An `analyze` task's answer as it crosses the mesh: issues (severity, line, message) and a
 * summary. The JSON schema is also the grammar the model's output is held to.
 */
export const SEVERITIES = ['error', 'warning', 'info'] as const

export const ANALYZE_SCHEMA = {
  type: 'object',
  properties: {
    issues: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        properties: { severity: { enum: [...SEVERITIES] }, line: { type: 'integer' }, message: { type: 'string', maxLength: 300 } },
        required: ['severity', 'line', 'message'],
        additionalProperties: false,
      },
    },
    summary: { type: 'string', maxLength: 600 },
  },
  required: ['issues', 'summary'],
  additionalProperties: false,
} as const

export interface Analysis { issues: Array<{ severity: typeof SEVERITIES[number], line: number, message: string }>, summary: string }
