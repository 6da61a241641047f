import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { COLLECT_BOUNDS, FileCollector } from '../../sandbox/collect.js'
import { TarFormatError, TarReader, type TarEntry } from '../../sandbox/tar.js'

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')

/** A ustar header block, for forging streams the real tar would never write. */
function header (name: string, size: number, type = '0'): Buffer {
  const block = Buffer.alloc(512)
  block.write(name, 0, 100, 'utf8')
  block.write('0000644\0', 100)
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124)
  block.write(type, 156)
  block.write('ustar\0' + '00', 257, 'latin1')
  block.write('        ', 148)
  let sum = 0
  for (const byte of block) sum += byte
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
  return block
}
const padded = (data: string): Buffer => {
  const bytes = Buffer.from(data)
  return Buffer.concat([bytes, Buffer.alloc((512 - bytes.length % 512) % 512)])
}
const END = Buffer.alloc(1024)

function entries (stream: Buffer, chunk = stream.length): Array<TarEntry & { data: string }> {
  const seen: Array<TarEntry & { data: string }> = []
  const reader = new TarReader(entry => {
    const parts: Buffer[] = []
    return { write: c => parts.push(Buffer.from(c)), end: () => seen.push({ ...entry, data: Buffer.concat(parts).toString() }) }
  })
  for (let i = 0; i < stream.length; i += chunk) reader.write(stream.subarray(i, i + chunk))
  reader.end()
  return seen
}

describe('tar stream written by GNU tar --format=posix', () => {
  let dir = ''
  let stream = Buffer.alloc(0)
  const longName = `deep/${'n'.repeat(120)}/${'m'.repeat(150)}.txt`

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gryphgen-tar-test-'))
    await mkdir(join(dir, 'src/sub'), { recursive: true })
    await mkdir(join(dir, `deep/${'n'.repeat(120)}`), { recursive: true })
    await writeFile(join(dir, 'src/a.txt'), 'hello\n')
    await writeFile(join(dir, 'src/sub/b.bin'), Buffer.from([0, 1, 2, 3]))
    await writeFile(join(dir, 'big.txt'), 'x'.repeat(COLLECT_BOUNDS.contentBytes + 1))
    await writeFile(join(dir, 'ünïcode.txt'), 'ü')
    await writeFile(join(dir, longName), 'long')
    await writeFile(join(dir, 'empty'), '')
    await symlink('/etc/shadow', join(dir, 'src/leak'))
    stream = execFileSync('tar', ['--format=posix', '--hard-dereference', '-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 26 })
  })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  test.each([1, 7, 512, 1 << 20])('parses the same whatever the chunk size (%i)', chunk => {
    const files = entries(stream, chunk).filter(e => e.type === 'file').map(e => [e.path, e.size]).sort()
    expect(files).toEqual([
      ['big.txt', COLLECT_BOUNDS.contentBytes + 1], [longName, 4], ['empty', 0],
      ['src/a.txt', 6], ['src/sub/b.bin', 4], ['ünïcode.txt', 2],
    ].sort())
  })

  test('symlinks are reported as such and never carry a target file', () => {
    const link = entries(stream).find(e => e.path === 'src/leak')
    expect(link).toMatchObject({ type: 'symlink', size: 0, data: '' })
  })

  test('the collector keeps matched regular files: text inline, binary and large ones by digest only', () => {
    const collector = new FileCollector(['src/**', '*.txt', 'deep/**'], 1 << 26)
    collector.write(stream)
    collector.end()
    expect(collector.truncated).toBe(false)
    expect(collector.largestFileSize).toBe(COLLECT_BOUNDS.contentBytes + 1)
    expect(collector.files.map(f => f.path)).toEqual(['big.txt', longName, 'src/a.txt', 'src/sub/b.bin', 'ünïcode.txt'])
    const byPath = new Map(collector.files.map(f => [f.path, f]))
    expect(byPath.get('src/a.txt')).toEqual({ path: 'src/a.txt', size: 6, sha256: sha256('hello\n'), content: 'hello\n' })
    expect(byPath.get('src/sub/b.bin')).toEqual({ path: 'src/sub/b.bin', size: 4, sha256: sha256(Buffer.from([0, 1, 2, 3])) })
    expect(byPath.get('big.txt')?.content).toBeUndefined()
    expect(byPath.get('big.txt')?.sha256).toBe(sha256('x'.repeat(COLLECT_BOUNDS.contentBytes + 1)))
    expect(byPath.get('ünïcode.txt')?.content).toBe('ü')
    expect(JSON.parse(JSON.stringify(collector.files))).toEqual(collector.files)
  })

  test('a stream over the byte cap is cut and marked truncated', () => {
    const collector = new FileCollector(['**'], 4096)
    collector.write(stream)
    collector.end()
    expect(collector.truncated).toBe(true)
  })
})

describe('forged tar streams', () => {
  test('unsafe names are skipped, safe ones kept', () => {
    const stream = Buffer.concat([
      header('../../etc/cron.d/x', 2), padded('no'),
      header('/abs', 2), padded('no'),
      header('./ok.txt', 3), padded('yes'),
      END,
    ])
    expect(entries(stream).map(e => [e.path, e.data])).toEqual([['ok.txt', 'yes']])
  })

  test('a pax path override is checked like any name', () => {
    const pax = (record: string): string => { const len = record.length + 3; return `${len} ${record}` }
    const records = pax('path=../outside\n')
    const stream = Buffer.concat([header('PaxHeader', records.length, 'x'), padded(records), header('inner', 1), padded('z'), END])
    expect(entries(stream)).toEqual([])
  })

  test('a corrupt header checksum throws TarFormatError', () => {
    const bad = header('a', 1)
    bad[0] = 'b'.charCodeAt(0)
    expect(() => entries(Buffer.concat([bad, padded('1'), END]))).toThrow(TarFormatError)
  })

  test('a stream that stops inside an entry throws', () => {
    expect(() => entries(Buffer.concat([header('a', 1000), Buffer.from('short')]))).toThrow(TarFormatError)
  })

  test('the collector turns a malformed stream into truncated, never an exception', () => {
    const collector = new FileCollector(['**'], 1 << 20)
    collector.write(Buffer.concat([header('a', 1000), Buffer.from('short')]))
    collector.end()
    expect(collector.truncated).toBe(true)
    const garbage = new FileCollector(['**'], 1 << 20)
    garbage.write(Buffer.alloc(512, 7))
    garbage.end()
    expect(garbage.truncated).toBe(true)
  })

  test('more than maxFiles matches are cut', () => {
    const parts: Buffer[] = []
    for (let i = 0; i <= COLLECT_BOUNDS.maxFiles; i++) parts.push(header(`f${i}`, 1), padded('x'))
    const collector = new FileCollector(['*'], 1 << 26)
    collector.write(Buffer.concat([...parts, END]))
    collector.end()
    expect(collector.files).toHaveLength(COLLECT_BOUNDS.maxFiles)
    expect(collector.truncated).toBe(true)
  })
})
