/**
 * The soak of issue 14 in its 60 s CI version (the 10-minute one is `npm run bench:soak`): a
 * mesh of three real node processes with an 8 s retention window runs a noop + small exec
 * workload. Asserted: the behaviour, not the figures: every node compacted while the workload
 * ran, every task ever acknowledged still answers GET /v1/tasks/:id on every node in a final
 * state, all nodes hold the same fold and version vector, and the entries still live at the
 * end are far fewer than the entries ever written. Not asserted: durations or the plateau
 * slope (a busy machine makes them noisy; the benchmark prints them).
 */
import { expect, test } from 'vitest'
import { runSoak } from '../../scripts/bench/soak.js'

test('a 60 s soak: compaction on every node, every acknowledged task answerable in its final state, identical folds, bounded live entries', async () => {
  const lines: string[] = []
  const result = await runSoak({ durationMs: 60_000, rate: 3, everyMs: 20_000, sampleMs: 5000, nodes: 3, retentionMs: 8000, blobEvery: 5, endPatienceMs: 120_000, log: line => lines.push(line) })
  const report = lines.join('\n')
  expect(result.acknowledged, report).toBeGreaterThan(60)
  for (const [name, samples] of result.samples) {
    const last = samples[samples.length - 1]
    // Compaction ran during the workload on every node, not only at the end.
    expect(last.compactedTasks, `${name}\n${report}`).toBeGreaterThan(0)
    expect(last.compactedEntries, `${name}\n${report}`).toBeGreaterThan(0)
  }
  for (const node of result.nodes) {
    expect(node.unanswered, node.name).toEqual([])
    expect(node.notCompacted, `${node.name}\n${report}`).toBe(0)
    expect(node.final.compactedTasks, node.name).toBe(result.acknowledged)
    // Live entries stay bounded: what is left once every task ended and the window passed is
    // far fewer than what was written (every entry of every task would still be there without compaction).
    const written = node.final.liveEntries + node.final.compactedEntries
    expect(node.final.liveEntries, `${node.name}: live of ${written} ever written`).toBeLessThan(written / 10)
  }
  expect(result.foldsIdentical, result.nodes.map(n => `${n.name} ${n.foldDigest}`).join('\n')).toBe(true)
  expect(result.vectorsIdentical, result.nodes.map(n => `${n.name} ${n.versionVector}`).join('\n')).toBe(true)
}, 330_000)
