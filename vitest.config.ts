import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./node/polyfill.ts'],
    globalSetup: ['./test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: mesh tests start real libp2p nodes and processes; too many files at once starve them.
    maxWorkers: 2,
    reporters: ['default'],
  },
})
