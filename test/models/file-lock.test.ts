import { spawn, type ChildProcess } from 'node:child_process'
import { readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, test } from 'vitest'
import { withFileLock } from '../../models/store/file-lock.js'
import { removeTempDirs, tempDir, waitFor } from '../helpers/nodes.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/lock-contender.ts', import.meta.url))
// proper-lockfile's floor is 2 s. The extra second keeps a live holder on a busy machine from looking dead.
const STALE_MS = 3000

const children = new Set<ChildProcess>()
afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  children.clear()
  await removeTempDirs()
})

interface Contender { child: ChildProcess, exited: Promise<unknown>, line: (prefix: string) => Promise<string> }

function contender (args: string[]): Contender {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  children.add(child)
  const exited = new Promise(resolve => child.once('exit', resolve))
  let closed = false
  child.once('close', () => { closed = true })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  const line = async (prefix: string): Promise<string> => {
    let found = ''
    await waitFor(() => {
      found = out.split('\n').find(l => l.startsWith(prefix)) ?? ''
      if (found === '' && closed) throw new Error(`contender ended (${child.exitCode ?? child.signalCode}) before "${prefix}": ${out}`)
      return found !== ''
    }, undefined, 20)
    return found
  }
  return { child, exited, line }
}

const isGone = async (path: string): Promise<boolean> => stat(path).then(() => false, () => true)

describe('withFileLock across processes', () => {
  test('two processes changing one file under the lock never hold it at once', async () => {
    const dir = await tempDir('gryphgen-lock-')
    const lock = join(dir, 'index.lock')
    await writeFile(join(dir, 'counter'), '0')
    const rounds = 40
    const [a, b] = ['a', 'b'].map(id => contender(['count', lock, dir, id, String(rounds)]))
    await Promise.all([a.line('ready'), b.line('ready')])
    a.child.stdin?.write('go\n')
    b.child.stdin?.write('go\n')
    const done = await Promise.all([a.line('done'), b.line('done')])
    expect(done).toEqual(['done 0', 'done 0'])
    // A read-pause-write increment made outside mutual exclusion would lose updates.
    expect(await readFile(join(dir, 'counter'), 'utf8')).toBe(String(2 * rounds))
    const log = (await readFile(join(dir, 'log'), 'utf8')).trim().split('\n')
    expect(log).toHaveLength(2 * rounds)
    // The processes took turns, so the lock was contended, not just used one after the other.
    expect(log.filter((id, i) => i > 0 && id !== log[i - 1]).length).toBeGreaterThan(1)
    expect(await isGone(lock)).toBe(true)
  })

  test('a live holder keeps its lock; one killed with SIGKILL leaves a lock that is taken over once stale', async () => {
    const dir = await tempDir('gryphgen-lock-')
    const lock = join(dir, 'index.lock')
    const holder = contender(['hold', lock, String(STALE_MS)])
    await holder.line('locked')
    // Longer than the stale time: the live holder's refreshes keep the lock from going stale.
    await expect(withFileLock(lock, async () => 'taken', { staleMs: STALE_MS, waitMs: 2 * STALE_MS }))
      .rejects.toMatchObject({ name: 'DataDirError' })
    await expect(withFileLock(lock, async () => 'taken', { staleMs: STALE_MS, signal: AbortSignal.timeout(100) }))
      .rejects.toMatchObject({ name: 'AbortedError' })

    holder.child.kill('SIGKILL')
    await holder.exited
    expect((await stat(lock)).isDirectory()).toBe(true) // SIGKILL gives no chance to clean up
    expect(await withFileLock(lock, async () => 'taken', { staleMs: STALE_MS })).toBe('taken')
    expect(await isGone(lock)).toBe(true)
  })
})

describe('withFileLock in one process', () => {
  test('callers wait for each other', async () => {
    const dir = await tempDir('gryphgen-lock-')
    const lock = join(dir, 'index.lock')
    let inside = 0
    let most = 0
    await Promise.all(Array.from({ length: 5 }, async () => withFileLock(lock, async () => {
      most = Math.max(most, ++inside)
      await sleep(5)
      inside--
    })))
    expect(most).toBe(1)
    expect(await isGone(lock)).toBe(true)
  })

  test('a lock file left by earlier versions is taken over once stale, waited for while fresh', async () => {
    const dir = await tempDir('gryphgen-lock-')
    const lock = join(dir, 'index.lock')
    await writeFile(lock, '999999')
    await expect(withFileLock(lock, async () => 'taken', { staleMs: STALE_MS, waitMs: 200 }))
      .rejects.toMatchObject({ name: 'DataDirError' })
    expect(await readFile(lock, 'utf8')).toBe('999999')
    const old = new Date(Date.now() - 2 * STALE_MS)
    await utimes(lock, old, old)
    expect(await withFileLock(lock, async () => 'taken', { staleMs: STALE_MS })).toBe('taken')
    expect(await isGone(lock)).toBe(true)
  })
})
