#!/usr/bin/env node
// Runs the TypeScript CLI directly: tsx compiles on load and caches the result.
import { register } from 'tsx/esm/api'

register()
await import('../node/cli/main.ts')
