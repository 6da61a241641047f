/**
 * The bottom layer: what every part may import and what imports nothing of the project.
 * Typed errors with stable names, the structured logger, durable file writes. The polyfill
 * (`base/polyfill.ts`) is imported for its effect, first, by every entry point.
 */
export * from './errors.js'
export * from './logger.js'
export * from './files.js'
export * from './lifecycle.js'
