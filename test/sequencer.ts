/**
 * Longest files first, so that two workers finish together instead of one waiting out a
 * long process test at the end. Where vitest's cache knows every file's last duration (a
 * developer's machine), those decide. Otherwise (a fresh checkout: CI) test/durations.json
 * does: seconds per file from a full run (beside `stress-ng` and quiet, averaged; only files
 * of 3 s or more). Files it does not name come after, larger first. It only orders the run:
 * a stale table costs minutes, never a result.
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

const TABLE = JSON.parse(readFileSync(new URL('./durations.json', import.meta.url), 'utf8')) as Record<string, number>

export default class LongestFirst extends BaseSequencer {
  override async sort (files: TestSpecification[]): Promise<TestSpecification[]> {
    const { cache, config } = this.ctx
    const keyOf = (spec: TestSpecification): string => `${spec.project.name}:${relative(config.root, spec.moduleId)}`
    const known = files.every(spec => cache.getFileTestResults(keyOf(spec)) !== undefined)
    const cost = (spec: TestSpecification): number => {
      if (known) {
        const last = cache.getFileTestResults(keyOf(spec))
        return last?.failed === true ? Number.MAX_SAFE_INTEGER : last?.duration ?? 0
      }
      const seconds = TABLE[relative(config.root, spec.moduleId)]
      // Unnamed files ran under 3 s: a millisecond per 1,000 bytes keeps them below and by size.
      return seconds === undefined ? (cache.getFileStats(keyOf(spec))?.size ?? 0) / 1000 : seconds * 1000
    }
    const costs = new Map(files.map(spec => [spec, cost(spec)]))
    return [...files].sort((a, b) => (costs.get(b) ?? 0) - (costs.get(a) ?? 0))
  }
}
