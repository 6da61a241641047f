import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { afterEach, describe, expect, test } from 'vitest'
import { uidLocks } from '../../sandbox/uid-locks.js'
import { UidPool } from '../../sandbox/uid-pool.js'

describe('uid pool', () => {
  test('hands out distinct uids round robin and refuses when all are taken', () => {
    const pool = new UidPool(1000, 3)
    expect([pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()]).toEqual([1000, 1001, 1002, null])
    pool.release(1001)
    expect(pool.allocate()).toBe(1001)
    pool.release(1000)
    pool.release(1002)
    expect(pool.allocate()).toBe(1002)
    expect(pool.inUse).toBe(2)
    expect(pool.contains(1002) && !pool.contains(1003) && !pool.contains(999)).toBe(true)
  })

  test('a just-released uid is the last to be reused', () => {
    const pool = new UidPool(1, 4)
    const first = pool.allocate()
    pool.release(first ?? 0)
    expect([pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()]).toEqual([2, 3, 4, 1])
  })

  test('uids another process claims are skipped', () => {
    const pool = new UidPool(10, 3)
    expect(pool.allocate(uid => uid !== 10)).toBe(11)
    expect(pool.allocate(() => false)).toBeNull()
  })
})

describe('uid claims across processes', () => {
  const dirs: string[] = []
  const lockDir = (): string => { const dir = mkdtempSync(join(tmpdir(), 'gryphgen-uid-locks-test-')); dirs.push(dir); return dir }
  afterEach(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }) })

  test('a uid claimed by a live process cannot be claimed again until released', () => {
    const dir = lockDir()
    const [mine, other] = [uidLocks(dir), uidLocks(dir)]
    expect(mine.claim(200_001)).toBe(true)
    expect(readFileSync(join(dir, 'uid-200001'), 'utf8')).toBe(String(process.pid))
    expect(other.claim(200_001)).toBe(false)
    mine.release(200_001)
    expect(existsSync(join(dir, 'uid-200001'))).toBe(false)
    expect(other.claim(200_001)).toBe(true)
  })

  test('a claim left by a dead process is taken over; garbage is treated as stale', () => {
    const dir = lockDir()
    writeFileSync(join(dir, 'uid-5'), '4194305') // above the kernel's largest pid: never alive
    writeFileSync(join(dir, 'uid-6'), 'garbage')
    const locks = uidLocks(dir)
    expect(locks.claim(5)).toBe(true)
    expect(locks.claim(6)).toBe(true)
    expect(readFileSync(join(dir, 'uid-5'), 'utf8')).toBe(String(process.pid))
  })

  test('a stale claim whose uid still has a live process is skipped, and taken over once it is gone', async () => {
    const dir = lockDir()
    const uid = 200_998
    const leftover = spawn('sleep', ['60'], { uid, gid: uid, stdio: 'ignore' })
    try {
      await new Promise(resolve => leftover.once('spawn', resolve))
      writeFileSync(join(dir, `uid-${uid}`), '4194305') // its claimant is dead
      const locks = uidLocks(dir)
      expect(locks.claim(uid)).toBe(false)
      expect(new UidPool(uid, 1).allocate(candidate => locks.claim(candidate))).toBeNull()
      leftover.kill('SIGKILL')
      await new Promise(resolve => leftover.once('exit', resolve))
      expect(locks.claim(uid)).toBe(true)
    } finally {
      leftover.kill('SIGKILL')
    }
  })
})
