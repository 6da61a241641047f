/**
 * The installation commands as a user runs them: `gryphgen service install|uninstall` writes a
 * unit that `systemd-analyze verify` (Debian's systemd package; no running systemd needed)
 * accepts without a warning, and removes it; `gryphgen completion bash`, sourced into bash,
 * completes subcommands at each level; `--version` names the protocol versions.
 */
import { execFile } from 'node:child_process'
import { access, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, test } from 'vitest'
import { PATIENCE_MS, removeTempDirs, tempDir } from '../helpers/nodes.js'
import { BIN, killAll, runCli } from '../helpers/processes.js'
import { AUCTION_PROTOCOL, LEDGER_SYNC_PROTOCOL } from '../../protocols/index.js'

const run = promisify(execFile)

afterAll(async () => {
  await killAll()
  await removeTempDirs()
})

/** Verifies a unit file; systemd-analyze exits 0 on some problems, so its warnings count too. */
async function verifyUnit (path: string): Promise<string> {
  const result = await run('systemd-analyze', ['verify', path], { timeout: PATIENCE_MS }).catch((err: { stderr?: string, message: string }) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('systemd-analyze is missing: install Debian\'s systemd package (npm run setup:system)')
    return { stderr: `${err.stderr ?? ''}${err.message}` }
  })
  return result.stderr.trim()
}

describe('gryphgen service', () => {
  test('install --user writes a unit systemd accepts; uninstall removes it', async () => {
    const dir = await tempDir('gryphgen-service-')
    const dataDir = join(dir, 'data dir')
    const installed = await runCli(['service', 'install', '--user', '--unit-dir', dir, '--data-dir', dataDir])
    expect(installed).toMatchObject({ code: 0 })
    expect(installed.stdout).toContain('systemctl --user enable --now gryphgen')
    const unitPath = join(dir, 'gryphgen.service')
    const unit = await readFile(unitPath, 'utf8')
    expect(unit).toMatch(/^Restart=on-failure$/m)
    expect(unit).toMatch(/^KillMode=mixed$/m)
    expect(unit).toMatch(/^LimitNOFILE=\d+$/m)
    expect(unit).toContain(`"${dataDir}"`)
    expect(unit).toContain(BIN)
    expect(unit).not.toMatch(/^User=/m)
    expect(await verifyUnit(unitPath)).toBe('')

    expect(await runCli(['service', 'uninstall', '--user', '--unit-dir', dir])).toMatchObject({ code: 0 })
    await expect(access(unitPath)).rejects.toThrow()
  })

  test('a system unit runs as a dedicated user and verifies', async () => {
    const dir = await tempDir('gryphgen-service-')
    const printed = await runCli(['service', 'install', '--print'])
    expect(printed.code).toBe(0)
    expect(printed.stdout).toMatch(/^User=gryphgen$/m)
    expect(printed.stdout).toContain('--data-dir /var/lib/gryphgen')
    expect(printed.stdout).toMatch(/^WantedBy=multi-user.target$/m)
    await writeFile(join(dir, 'gryphgen.service'), printed.stdout)
    expect(await verifyUnit(join(dir, 'gryphgen.service'))).toBe('')
  })

  test('a relative data dir is a usage error', async () => {
    const result = await runCli(['service', 'install', '--user', '--print', '--data-dir', 'relative/dir'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('UsageError')
  })
})

describe('gryphgen completion', () => {
  test('bash: the sourced script completes subcommands at each level', async () => {
    const dir = await tempDir('gryphgen-completion-')
    const script = await runCli(['completion', 'bash'])
    expect(script.code).toBe(0)
    await writeFile(join(dir, 'gryphgen.bash'), script.stdout)
    const complete = async (...words: string[]): Promise<string[]> => {
      const line = `source ${JSON.stringify(join(dir, 'gryphgen.bash'))}; complete -p gryphgen >/dev/null || exit 3; COMP_WORDS=(gryphgen ${words.map(w => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; _gryphgen_complete; printf '%s\\n' "\${COMPREPLY[@]}"`
      const { stdout } = await run('bash', ['--noprofile', '--norc', '-c', line], { timeout: PATIENCE_MS })
      return stdout.split('\n').filter(w => w !== '')
    }
    expect(await complete('ser')).toEqual(['service'])
    expect(await complete('service', 'in')).toEqual(['install'])
    expect(await complete('start', '--api-p')).toEqual(['--api-port'])
    expect(await complete('model', '')).toEqual(expect.arrayContaining(['add', 'list', 'rm']))
  })

  test('zsh: the script loads through bashcompinit and completes at the right level', async () => {
    const dir = await tempDir('gryphgen-completion-zsh-')
    const script = await runCli(['completion', 'zsh'])
    expect(script.code).toBe(0)
    await writeFile(join(dir, 'gryphgen.zsh'), script.stdout)
    // zsh's own completion filters the candidates by the typed prefix (compadd); what the
    // script decides is the level: the subcommands and options of the words already typed.
    const level = async (...typed: string[]): Promise<string[]> => {
      const line = `source ${JSON.stringify(join(dir, 'gryphgen.zsh'))} || exit 3; [[ -n "$_comps[gryphgen]" ]] || exit 4; COMP_WORDS=(gryphgen ${typed.map(w => `'${w}'`).join(' ')}); COMP_CWORD=${typed.length}; _gryphgen_complete; print -l -- $COMPREPLY`
      const { stdout, stderr } = await run('zsh', ['-f', '-c', line], { timeout: PATIENCE_MS, env: { ...process.env, HOME: dir } })
      expect(stderr).toBe('')
      return stdout.split('\n').filter(w => w !== '')
    }
    const service = await level('service', 'in')
    expect(service).toEqual(expect.arrayContaining(['install', 'uninstall']))
    expect(service).not.toContain('start')
    expect(await level('start', '--api-p')).toContain('--api-port')
  })

  test('fish: `complete -C` completes subcommands and options with their help', async () => {
    const dir = await tempDir('gryphgen-completion-fish-')
    const script = await runCli(['completion', 'fish'])
    expect(script.code).toBe(0)
    await writeFile(join(dir, 'gryphgen.fish'), script.stdout)
    const complete = async (line: string): Promise<string[]> => {
      const { stdout } = await run('fish', ['--no-config', '-c', `source ${JSON.stringify(join(dir, 'gryphgen.fish'))}; complete -C ${JSON.stringify(line)}`], { timeout: PATIENCE_MS, env: { ...process.env, HOME: dir } })
      return stdout.split('\n').filter(w => w !== '').map(w => w.split('\t')[0])
    }
    expect(await complete('gryphgen ser')).toEqual(['service'])
    expect(await complete('gryphgen service in')).toEqual(['install'])
    expect(await complete('gryphgen start --api-p')).toEqual(['--api-port'])
  })

  test('an unknown shell is a usage error', async () => {
    expect(await runCli(['completion', 'tcsh'])).toMatchObject({ code: 2 })
  })
})

test('--version prints the package and protocol versions', async () => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  const result = await runCli(['--version'])
  expect(result.code).toBe(0)
  expect(result.stdout).toContain(`gryphgen ${pkg.version}`)
  expect(result.stdout).toContain(AUCTION_PROTOCOL)
  expect(result.stdout).toContain(LEDGER_SYNC_PROTOCOL)
})
