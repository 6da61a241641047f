import { describe, expect, test } from 'vitest'
import { expectations, matchOutput, shellBlocks, substitute } from '../helpers/readme-blocks.js'

const fence = '```'

describe('the README doc test reads the README convention', () => {
  test('shell blocks are runnable by default; directives before the fence change that', () => {
    const md = [
      '# t', `${fence}sh`, 'echo a', fence,
      '<!-- doctest: skip (needs docker; really) -->', `${fence}sh`, 'docker ps', fence,
      '<!-- doctest: machine second; timeout 120; in-repo -->', `${fence}bash`, 'echo b', fence,
      `${fence}json`, '{}', fence,
      '  ```sh', '  echo indented', '  ```',
    ].join('\n')
    const blocks = shellBlocks(md)
    expect(blocks.map(b => [b.line, b.code, b.directives])).toEqual([
      [2, 'echo a', { machine: 'A', inRepo: false, timeoutS: 60 }],
      [6, 'docker ps', { machine: 'A', inRepo: false, timeoutS: 60, skip: 'needs docker; really' }],
      [10, 'echo b', { machine: 'second', inRepo: true, timeoutS: 120 }],
      [16, 'echo indented', { machine: 'A', inRepo: false, timeoutS: 60 }],
    ])
  })

  test.each([
    ['a skip without a reason', '<!-- doctest: skip () -->'],
    ['an unknown directive', '<!-- doctest: sometimes -->'],
    ['a doctest comment over two lines', '<!-- doctest: skip (x)'],
  ])('%s is an error naming the line', (_name, comment) => {
    expect(() => shellBlocks(`${comment}\n${fence}sh\necho\n${fence}`)).toThrow(/README\.md:1/)
  })

  test('expected output: `# -> TEXT` with … for any text, two spaces end it, words with … bind', () => {
    const [block] = shellBlocks(`${fence}sh\ngryphgen invite   # -> gryphgen-invite-v1:…\ncurl x\n# -> {"id":"…","state":"pending"}  (202)\n${fence}`)
    expect(expectations(block)).toEqual([{ line: 2, text: 'gryphgen-invite-v1:…' }, { line: 4, text: '{"id":"…","state":"pending"}' }])
    const out = 'log line\ngryphgen-invite-v1:eyJabc\n{"id":"mx1","state":"pending"}\n'
    expect(matchOutput('gryphgen-invite-v1:…', out)).toEqual(new Map([['gryphgen-invite-v1:…', 'gryphgen-invite-v1:eyJabc']]))
    expect(matchOutput('{"id":"…","state":"pending"}', out)).toEqual(new Map())
    expect(matchOutput('{"id":"…","state":"done"}', out)).toBeUndefined()
    expect(substitute("gryphgen start --join 'gryphgen-invite-v1:…' &", new Map([['gryphgen-invite-v1:…', 'gryphgen-invite-v1:eyJabc']])))
      .toBe("gryphgen start --join 'gryphgen-invite-v1:eyJabc' &")
  })
})
