import { describe, expect, test } from 'vitest'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveConfig, loadConfig, defaultConfig } from '../../node/config/index.js'
import { ConfigError } from '../../base/index.js'

const file = (value: unknown) => ({ path: 'gryphgen.json', text: JSON.stringify(value) })

function problemsOf (fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).name).toBe('ConfigError')
    return (err as ConfigError).problems
  }
  throw new Error('expected a ConfigError')
}

describe('config precedence: defaults < file < env < flags', () => {
  test('defaults apply when nothing is set', () => {
    const config = resolveConfig({ dataDir: '/tmp/x' })
    expect(config.apiPort).toBe(defaultConfig().apiPort)
    expect(config.mdns).toBe(true)
    expect(config.apiHost).toBe('127.0.0.1')
  })

  test.each([
    ['file only', { apiPort: 1001 }, {}, {}, 1001],
    ['env beats file', { apiPort: 1001 }, { GRYPHGEN_API_PORT: '1002' }, {}, 1002],
    ['flag beats env and file', { apiPort: 1001 }, { GRYPHGEN_API_PORT: '1002' }, { apiPort: '1003' }, 1003],
    ['flag beats file without env', { apiPort: 1001 }, {}, { apiPort: 1004 }, 1004],
  ])('%s', (_name, fileValue, env, flags, expected) => {
    expect(resolveConfig({ dataDir: '/d', file: file(fileValue), env, flags }).apiPort).toBe(expected)
  })

  test('lists in env are comma separated; booleans parsed', () => {
    const config = resolveConfig({ dataDir: '/d', env: { GRYPHGEN_LABELS: 'gpu, fast', GRYPHGEN_MDNS: 'off' } })
    expect(config.labels).toEqual(['gpu', 'fast'])
    expect(config.mdns).toBe(false)
  })

  test('worker niceness from env beats the file, key by key; out of range or not a number is refused', () => {
    const config = resolveConfig({ dataDir: '/d', file: file({ priority: { taskNice: 12, modelNice: 7 } }), env: { GRYPHGEN_TASK_NICE: '0' } })
    expect(config.priority).toEqual({ taskNice: 0, modelNice: 7 })
    expect(resolveConfig({ dataDir: '/d', env: { GRYPHGEN_MODEL_NICE: '3', GRYPHGEN_TASK_NICE: '4' } }).priority).toEqual({ taskNice: 4, modelNice: 3 })
    expect(problemsOf(() => resolveConfig({ dataDir: '/d', env: { GRYPHGEN_TASK_NICE: 'low' } })).some(p => p.includes('GRYPHGEN_TASK_NICE'))).toBe(true)
    expect(problemsOf(() => resolveConfig({ dataDir: '/d', env: { GRYPHGEN_MODEL_NICE: '20' } })).some(p => p.includes('modelNice'))).toBe(true)
  })

  test('declared resources from the file stand in for detection', () => {
    const config = resolveConfig({ dataDir: '/d', file: file({ resources: { gpus: [{ vendor: 'nvidia', model: 'RTX 4090', vramMb: 24576 }] } }) })
    expect(config.resources.gpus?.[0].vramMb).toBe(24576)
  })

  test('the result is frozen', () => {
    const config = resolveConfig({ dataDir: '/d', file: file({ labels: ['a'] }) })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.labels)).toBe(true)
    expect(() => { (config.labels as string[]).push('b') }).toThrow()
  })
})

describe('config errors list every problem at once', () => {
  test('problems from file, env and flags together', () => {
    const problems = problemsOf(() => resolveConfig({
      dataDir: '/d',
      file: file({ apiPort: 'eighty', bogus: 1 }),
      env: { GRYPHGEN_MDNS: 'perhaps', GRYPHGEN_APIPORT: '1' },
      flags: { apiPort: 'x1' },
    }))
    expect(problems.length).toBeGreaterThanOrEqual(5)
    expect(problems.some(p => p.includes('bogus'))).toBe(true)
    expect(problems.some(p => p.includes('apiPort'))).toBe(true)
    expect(problems.some(p => p.includes('GRYPHGEN_MDNS'))).toBe(true)
    expect(problems.some(p => p.includes('GRYPHGEN_APIPORT'))).toBe(true)
    expect(problems.find(p => p.includes('GRYPHGEN_APIPORT'))).toContain('GRYPHGEN_CONFIG') // the known list is whole
    expect(problems.some(p => p.includes('--api-port'))).toBe(true)
    expect(problems).toContain('gryphgen.json: unknown field `bogus`')
  })

  test('a misspelled config key names the key it most likely means', () => {
    const problems = problemsOf(() => resolveConfig({ dataDir: '/d', file: file({ apiPrt: 1, auction: { leaseMS: 1 } }) }))
    expect(problems).toContain('gryphgen.json: unknown field `apiPrt` (did you mean `apiPort`?)')
    expect(problems).toContain('gryphgen.json: unknown field `leaseMS` in auction (did you mean `leaseMs`?)')
  })

  test.each([
    ['invalid JSON', { path: 'f', text: '{"a":' }],
    ['port out of range', file({ apiPort: 70000 })],
    ['bad listen multiaddr', file({ listen: ['not-a-multiaddr'] })],
    ['bootstrap without peer id', file({ bootstrap: ['/ip4/127.0.0.1/tcp/1'] })],
    ['bad label', file({ labels: ['has space'] })],
    ['unknown resource key', file({ resources: { tpus: 4 } })],
    ['negative VRAM', file({ resources: { gpus: [{ vendor: 'x', model: 'y', vramMb: -1 }] } })],
  ])('%s', (_name, f) => {
    expect(problemsOf(() => resolveConfig({ dataDir: '/d', file: f })).length).toBeGreaterThan(0)
  })

  test('log level lists the allowed values', () => {
    const [problem] = problemsOf(() => resolveConfig({ dataDir: '/d', flags: { logLevel: 'loud' } }))
    expect(problem).toContain('debug')
  })
})

describe('loadConfig reads the data dir file', () => {
  test('file in the data dir is used; a missing explicit file is an error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gryphgen-config-'))
    await writeFile(join(dir, 'gryphgen.json'), JSON.stringify({ name: 'from-file' }))
    const config = await loadConfig({ flags: { dataDir: dir }, env: {} })
    expect(config.name).toBe('from-file')
    expect(config.dataDir).toBe(dir)
    await expect(loadConfig({ flags: { dataDir: dir }, configPath: join(dir, 'nope.json'), env: {} })).rejects.toMatchObject({ name: 'ConfigError' })
  })
})
