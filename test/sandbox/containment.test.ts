/**
 * Hostile programs against the sandbox: each case asserts that the attempt was contained, not
 * merely that the program ran. Needs bubblewrap and tini, and root (uid per run), as in CI.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { afterAll, describe, expect, test } from 'vitest'
import { runSandboxed, validateSpec, InvalidSandboxSpecError, type SandboxResult, type SandboxSpec } from '../../sandbox/index.js'
import { inSandboxUidRange, marker, processesWith, waitFor } from './helpers.js'
import { requireBubblewrap } from '../helpers/system-tools.js'

requireBubblewrap()

const repo = process.cwd()
const sh = async (script: string, extra: Omit<SandboxSpec, 'command'> = {}): Promise<SandboxResult> =>
  await runSandboxed({ command: ['sh', '-c', script], ...extra })

describe('file system', () => {
  test('host secrets and the repository cannot be read', async () => {
    expect(existsSync('/etc/shadow') && existsSync(`${repo}/package.json`)).toBe(true)
    const targets = ['/etc/shadow', '/etc/gshadow', '/root', '/root/.bashrc', '/home', '/var', '/srv', '/mnt',
      `${repo}/package.json`, repo, '/sys/fs/cgroup', '/proc/1/root/etc/shadow', '/.dockerenv']
    const result = await runSandboxed({
      command: ['sh', '-c', 'for p in "$@"; do if cat "$p" >/dev/null 2>&1 || ls -A "$p" 2>/dev/null | grep -q .; then echo "READ $p"; fi; done; echo "OPT $(ls -A /opt 2>/dev/null)"; cat /etc/passwd', 'sh', ...targets],
    })
    expect(result.exitCode).toBe(0)
    expect(result.stdout).not.toContain('READ ')
    expect(result.stdout).toMatch(/^OPT (typescript)?$/m) // /opt holds only the node's own tools, read-only
    const hostUsers = readFileSync('/etc/passwd', 'utf8').split('\n').map(line => line.split(':')[0]).filter(u => u !== '' && u !== 'root' && u !== 'nobody')
    for (const user of hostUsers) expect(result.stdout).not.toMatch(new RegExp(`^${user}:`, 'm'))
  })

  test('nothing outside /work, /tmp and /dev/shm is writable, and nothing written reaches the host', async () => {
    const name = marker()
    const targets = ['/', '/usr', '/usr/local', '/etc', '/dev', '/proc', '/bin', '/lib', repo, '/root', '/var/tmp']
    const result = await runSandboxed({
      command: ['sh', '-c', 'for d in "$@"; do touch "$d/$N" 2>/dev/null && echo "WROTE $d"; done; echo x > /tmp/$N && echo > /work/$N && echo > /dev/shm/$N && echo tmp-ok', 'sh', ...targets],
      env: { N: name },
    })
    expect(result.stdout).not.toContain('WROTE')
    expect(result.stdout).toContain('tmp-ok')
    for (const dir of [...targets, '/tmp', '/dev/shm']) expect(existsSync(`${dir}/${name}`)).toBe(false)
  })

  test('/work is capped at diskMb', async () => {
    const result = await sh('head -c 3145728 /dev/zero > a && head -c 3145728 /dev/zero > b; echo rc=$?', { limits: { diskMb: 4 } })
    expect(result.stdout).toMatch(/rc=[1-9]/)
    expect(result.stderr).toMatch(/No space left/)
  })

  test('produced symlinks and hard links never return host files', async () => {
    const shadow = readFileSync('/etc/shadow', 'utf8')
    const result = await sh('ln -s /etc/shadow leak; ln -s /proc/1/environ env; ln -s .. up; ln /etc/passwd hard 2>/dev/null; echo real > real.txt', { collect: ['**'] })
    expect(result.files.map(f => f.path)).toEqual(['real.txt'])
    for (const file of result.files) expect(shadow).not.toContain(file.content ?? '\0none')
  })

  test('symlink and .. tricks in submitted paths are rejected before anything runs', () => {
    for (const files of [{ '../escape': 'x' }, { '/etc/cron.d/job': 'x' }, { 'a/../../b': 'x' }, { link: 'x', 'link/inner': 'y' }]) {
      expect(() => validateSpec({ command: ['true'], files })).toThrow(InvalidSandboxSpecError)
    }
    return expect(runSandboxed({ command: ['true'], files: { '../x': '' } })).rejects.toMatchObject({ name: 'InvalidSandboxSpecError' })
  })
})

describe('network', () => {
  const servers: Server[] = []
  let accepted = 0
  const listen = async (host: string): Promise<number> => await new Promise((resolve, reject) => {
    const server = createServer(socket => { accepted++; socket.destroy() })
    servers.push(server)
    server.once('error', reject)
    server.listen(0, host, () => { resolve((server.address() as { port: number }).port) })
  })
  afterAll(async () => { await Promise.all(servers.map(async s => await new Promise(resolve => s.close(resolve)))) })

  test('listeners on the host loopback (127.0.0.1 and ::1) cannot be reached', async () => {
    const port4 = await listen('127.0.0.1')
    const port6 = await listen('::1')
    const probe = 'import socket,sys\nfor fam,host,port in ((socket.AF_INET,"127.0.0.1",int(sys.argv[1])),(socket.AF_INET6,"::1",int(sys.argv[2]))):\n  s=socket.socket(fam); s.settimeout(2)\n  try:\n    s.connect((host,port)); print("CONNECTED",host)\n  except OSError as e:\n    print("refused",host,e.errno)\nprint("IFACES", *[l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]])'
    const result = await runSandboxed({ command: ['python3', '-c', probe, String(port4), String(port6)] })
    expect(result.stdout).not.toContain('CONNECTED')
    expect(result.stdout).toMatch(/refused 127\.0\.0\.1/)
    expect(result.stdout).toMatch(/refused ::1/)
    expect(result.stdout).toMatch(/^IFACES lo$/m)
    expect(accepted).toBe(0)
  })
})

describe('processes and environment', () => {
  test('only the sandbox\'s own processes are visible; host pids do not exist inside', async () => {
    const result = await runSandboxed({
      command: ['sh', '-c', 'for p in /proc/[0-9]*; do echo "$(basename $p) $(tr "\\0" " " < $p/cmdline)"; done; kill -0 "$HOST_PID" 2>/dev/null; echo "kill=$?"'],
      env: { HOST_PID: String(process.pid) },
    })
    const lines = result.stdout.trim().split('\n')
    expect(lines.pop()).toBe('kill=1')
    expect(lines.length).toBeLessThanOrEqual(3)
    expect(result.stdout).not.toMatch(/vitest|process_api|bwrap/)
    expect(lines[0]).toMatch(/^1 .*tini/)
  })

  test("the node's environment never leaks, not even through /proc/1/environ", async () => {
    const secret = `s3cret-${marker()}`
    process.env.GRYPHGEN_SANDBOX_TEST_SECRET = secret
    try {
      const result = await runSandboxed({
        command: ['sh', '-c', 'env; for f in /proc/[0-9]*/environ /proc/self/environ; do tr "\\0" "\\n" < $f; done; cat /proc/1/cmdline'],
        env: { ALLOWED: 'visible' },
      })
      expect(result.stdout).toContain('ALLOWED=visible')
      expect(result.stdout + result.stderr).not.toContain(secret)
      expect(result.stdout).not.toContain('GRYPHGEN_SANDBOX_TEST_SECRET')
      expect(result.stdout).not.toContain(`HOME=${process.env.HOME ?? '/root'}\n`)
    } finally {
      delete process.env.GRYPHGEN_SANDBOX_TEST_SECRET
    }
  })

  test('each run has a host uid of its own from the reserved range, never the node\'s uid', async () => {
    const name = marker()
    // A wall limit long enough to be seen running on a busy machine (setup alone can take seconds).
    const running = runSandboxed({ command: ['sh', '-c', 'sleep 60', name], limits: { wallMs: 8000 } })
    const seen = await waitFor(async () => {
      const found = await processesWith(name)
      return found.some(p => p.cmdline.startsWith('sh -c')) ? found : undefined
    })
    for (const p of seen) {
      expect(inSandboxUidRange(p.uid)).toBe(true)
      expect(p.uid).not.toBe(process.getuid?.())
      expect(p.uid).not.toBe(0)
    }
    const result = await running
    expect(result).toMatchObject({ timedOut: true, limitHit: 'wall' })
    expect(await processesWith(name)).toEqual([])
  })

  test('the kernel surface is narrowed: no ptrace, user namespaces, io_uring, bpf, keyring, mount', async () => {
    const probe = [
      'import ctypes, os',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'def call(name, *args):',
      '    r = libc.syscall(*args); print(name, r, ctypes.get_errno())',
      'call("ptrace", 101, 0, 1, 0, 0)', // PTRACE_ATTACH to pid 1
      'call("unshare", 272, 0x10000000)', // CLONE_NEWUSER
      'call("io_uring_setup", 425, 1, 0)',
      'call("bpf", 321, 0, 0, 0)',
      'call("keyctl", 250, 0, 0, 0, 0)',
      'call("mount", 165, 0, 0, 0, 0, 0)',
    ].join('\n')
    const result = await runSandboxed({ command: ['python3', '-c', probe] })
    expect(result.exitCode).toBe(0)
    const lines = result.stdout.trim().split('\n')
    expect(lines).toHaveLength(6)
    for (const line of lines) expect(line).toMatch(/ -1 1$/) // EPERM
    const userns = await sh('unshare -U true 2>&1; echo rc=$?')
    expect(userns.stdout).toMatch(/rc=[1-9]/)
  })
})

describe('two runs at once', () => {
  test('cannot see each other\'s files or processes', async () => {
    const secret = marker()
    const [writer, reader] = await Promise.all([
      runSandboxed({ command: ['sh', '-c', 'echo "$S" > /work/$S; echo "$S" > /tmp/$S; echo "$S" > /dev/shm/$S; sleep 1', secret], env: { S: secret } }),
      runSandboxed({ command: ['sh', '-c', 'sleep 0.4; ls -la /work /tmp /dev/shm; find / -xdev -name "gryphgen-marker-*" 2>/dev/null; ps -eo args'] }),
    ])
    expect(writer.exitCode).toBe(0)
    expect(reader.exitCode).toBe(0)
    expect(reader.stdout).not.toContain(secret)
  })
})
