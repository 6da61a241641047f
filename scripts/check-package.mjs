#!/usr/bin/env node
// `npm run check:package`: the package as a grid machine installs it. Packs the tarball
// (prepack builds dist/ and the dashboard), installs it into a temporary prefix with
// `npm install -g --prefix`, made CPU-only with `gryphgen setup --gpu cpu --prune` (npm ignores
// --omit for a global tarball install, npm/cli#8284),
// checks the installed tree holds no TypeScript source of the product and no tsx, runs
// `gryphgen init` and `gryphgen start` from the prefix with NODE_OPTIONS unset, asks
// /v1/health, checks that neither the node nor its workers run through tsx or a .ts file,
// and stops the node by its PID. Plain JavaScript on purpose: it must not need tsx itself.
// Flags: --full (keep every optional dependency: the "before" size), --keep (leave the
// prefix), --tarball FILE (install that tarball instead of packing one).
// Ends with one line "package check: ok" (exit 0) or "package check: FAILED: why" (exit 1).
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const full = args.includes('--full')
const keep = args.includes('--keep')
const given = args.includes('--tarball') ? args[args.indexOf('--tarball') + 1] : undefined
const scratch = mkdtempSync(join(tmpdir(), 'gryphgen-package-'))
const prefix = join(scratch, 'prefix')
const env = { ...process.env }
delete env.NODE_OPTIONS
const say = (line) => process.stdout.write(`${line}\n`)
const sh = (cmd, argv, options = {}) => execFileSync(cmd, argv, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000, ...options })

/** Every file under dir (not following links), with its path relative to dir. */
function walk (dir, rel = '', out = []) {
  for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const path = join(rel, entry.name)
    if (entry.isDirectory()) walk(dir, path, out)
    else out.push(path)
  }
  return out
}

let node
async function check () {
  let tarball = given
  if (tarball === undefined) {
    // What `prepack` would build, built only when a source changed (the suite's set-up has
    // usually just built it); then pack without running the build a second time.
    sh(process.execPath, [join(root, 'scripts', 'build-if-stale.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
    const [packed] = JSON.parse(sh('npm', ['pack', '--ignore-scripts', '--pack-destination', scratch, '--json', '--silent'], { cwd: root }))
    tarball = join(scratch, packed.filename)
    say(`packed ${packed.filename}: ${packed.entryCount} files, ${(packed.size / 1e6).toFixed(1)} MB`)
  }
  const install = ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball]
  sh('npm', install, { stdio: ['ignore', 'inherit', 'inherit'] })
  const pkgDir = join(prefix, 'lib', 'node_modules', 'gryphgen')
  const bin = join(prefix, 'bin', 'gryphgen')
  if (!full) say(sh(bin, ['setup', '--gpu', 'cpu', '--prune']).trim())
  say(`installed: ${sh('du', ['-sh', pkgDir]).split('\t')[0]} (${full ? 'every optional dependency' : 'CPU only'})`)

  const files = walk(pkgDir)
  const productTs = files.filter(f => !f.startsWith('node_modules/') && /\.(ts|mts|cts)$/.test(f) && !/\.d\.[mc]?ts$/.test(f))
  if (productTs.length > 0) throw new Error(`TypeScript sources in the installed package: ${productTs.slice(0, 5).join(', ')}`)
  const tsx = files.filter(f => /(^|\/)node_modules\/tsx\/package\.json$/.test(f))
  if (tsx.length > 0) throw new Error(`tsx is installed with the package: ${tsx.join(', ')}`)
  for (const need of ['dist/node/cli/main.js', 'dashboard/build/index.html', `sandbox/seccomp/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}.bpf`]) {
    if (!existsSync(join(pkgDir, need))) throw new Error(`the installed package lacks ${need}`)
  }
  say(`no product .ts and no tsx among ${files.length} installed files`)

  const dataDir = join(scratch, 'data')
  say(sh(bin, ['--version']).split('\n')[0])
  sh(bin, ['init', '--data-dir', dataDir])
  node = spawn(bin, ['start', '--data-dir', dataDir, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--log-level', 'warn'], { env, stdio: ['ignore', 'inherit', 'inherit'] })
  const deadline = Date.now() + 180_000
  let health
  while (health === undefined && Date.now() < deadline) {
    if (node.exitCode !== null) throw new Error(`gryphgen start exited with ${node.exitCode}`)
    await new Promise(resolve => setTimeout(resolve, 500))
    if (!existsSync(join(dataDir, 'api-port'))) continue
    const port = readFileSync(join(dataDir, 'api-port'), 'utf8').trim()
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim()
    health = await fetch(`http://127.0.0.1:${port}/v1/health`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) })
      .then(async r => r.status === 200 ? await r.json() : undefined, () => undefined)
  }
  if (health?.ok !== true) throw new Error('/v1/health did not answer ok within 3 minutes')
  say(`/v1/health: ${JSON.stringify(health)}`)

  // The node and its workers all name the data dir on their command lines.
  const commands = readdirSync('/proc').filter(p => /^\d+$/.test(p)).map(pid => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean) } catch { return [] }
  }).filter(argv => argv.some(a => a.includes(dataDir)))
  const throughTsx = commands.filter(argv => argv.some(a => /(^|\/)tsx(\/|$)|\.ts$/.test(a)))
  if (commands.length === 0) throw new Error('found no process of the node')
  if (throughTsx.length > 0) throw new Error(`a process runs through tsx or TypeScript: ${throughTsx.map(a => a.join(' ')).join('; ')}`)
  say(`${commands.length} processes (node and workers) run compiled JavaScript only`)
}

let failure
try {
  await check()
} catch (err) {
  failure = err
} finally {
  if (node !== undefined && node.exitCode === null) {
    const exited = new Promise(resolve => node.once('exit', resolve))
    process.kill(node.pid, 'SIGTERM')
    const timer = setTimeout(() => process.kill(node.pid, 'SIGKILL'), 60_000)
    await exited
    clearTimeout(timer)
  }
  if (keep) say(`kept ${scratch}`)
  else rmSync(scratch, { recursive: true, force: true })
}
if (failure === undefined) say('package check: ok')
else say(`package check: FAILED: ${failure.message}`)
process.exitCode = failure === undefined ? 0 : 1
