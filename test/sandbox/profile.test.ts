import { describe, expect, test } from 'vitest'
import { cgroupDirectory, ownV1Directories, ownV2Directory, parseKeyedCounts, parseMountinfo, parseProcCgroup } from '../../sandbox/cgroup-paths.js'
import { classifyOutcome, signalOfStatus, type OutcomeInput } from '../../sandbox/outcome.js'
import { bubblewrapArgs, collectScript, launcherScript, type ProfileInput } from '../../sandbox/profile.js'
import { DEFAULT_LIMITS } from '../../sandbox/spec.js'

const profile = (over: Partial<ProfileInput> = {}): ProfileInput => ({
  rootLayout: [{ path: '/bin', symlinkTo: 'usr/bin' }, { path: '/lib', bind: true }],
  etcBinds: ['/etc/ld.so.cache'],
  optBinds: [{ from: '/app/node_modules/typescript', to: '/opt/typescript' }],
  etcFds: new Map([['passwd', 6]]),
  fileFds: [{ path: 'src/a.py', fd: 9 }],
  directories: ['src'],
  env: { PATH: '/usr/bin', SECRET_LOOKING: 'x' },
  limits: DEFAULT_LIMITS,
  seccompFd: 5,
  statusFd: 4,
  init: '/usr/bin/tini',
  command: ['python3', 'src/a.py'],
  collect: null,
  ...over,
})

const pairs = (args: string[], flag: string): string[][] =>
  args.flatMap((arg, i) => arg === flag ? [args.slice(i + 1, i + 3)] : [])

describe('bubblewrap profile', () => {
  const args = bubblewrapArgs(profile())
  const options = args.slice(0, args.indexOf('--'))

  test('isolation flags: namespaces, no user namespaces inside, no caps, new session, clean env, pid 1 reaper', () => {
    for (const flag of ['--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts',
      '--disable-userns', '--die-with-parent', '--new-session', '--clearenv', '--as-pid-1']) {
      expect(options).toContain(flag)
    }
    expect(options[options.indexOf('--cap-drop') + 1]).toBe('ALL')
    expect(options).not.toContain('--share-net')
    expect(options.slice(options.indexOf('--uid'), options.indexOf('--uid') + 4)).toEqual(['--uid', '65534', '--gid', '65534'])
  })

  test('only the spec env is set, after clearing', () => {
    const clear = options.indexOf('--clearenv')
    const setenvs = options.flatMap((arg, i) => arg === '--setenv' ? [[i, options[i + 1], options[i + 2]]] : [])
    expect(setenvs.map(([, name, value]) => [name, value])).toEqual([['PATH', '/usr/bin'], ['SECRET_LOOKING', 'x']])
    expect(setenvs.every(([i]) => (i as number) > clear)).toBe(true)
  })

  test('file system: ro /usr, host layout, ro /etc and /dev, capped tmpfs, root remounted ro', () => {
    expect(pairs(options, '--ro-bind')).toEqual([['/usr', '/usr'], ['/lib', '/lib'], ['/app/node_modules/typescript', '/opt/typescript'], ['/etc/ld.so.cache', '/etc/ld.so.cache']])
    expect(pairs(options, '--symlink')).toEqual([['usr/bin', '/bin']])
    expect(pairs(options, '--remount-ro').map(p => p[0])).toEqual(['/etc', '/dev', '/'])
    const mib = 1024 * 1024
    expect(pairs(options, '--size')).toEqual([
      [String(16 * mib), '--tmpfs'], [String(DEFAULT_LIMITS.diskMb * mib), '--tmpfs'], [String(DEFAULT_LIMITS.diskMb * mib), '--tmpfs'],
    ])
    expect(options.filter((arg, i) => options[i - 1] === '--tmpfs')).toEqual(['/etc', '/dev/shm', '/tmp', '/work'])
    expect(options.join(' ')).not.toMatch(/--bind |--dev-bind/)
    expect(pairs(options, '--chdir')).toEqual([['/work', '--remount-ro']])
  })

  test('inputs arrive as fds into /work; nothing of the host is bound there', () => {
    expect(pairs(options, '--dir')).toEqual([['/work/src', '--perms']])
    expect(pairs(options, '--file')).toEqual([['6', '/etc/passwd'], ['9', '/work/src/a.py']])
    expect(pairs(options, '--seccomp')).toEqual([['5', '--json-status-fd']])
  })

  test('the command runs under tini; with collect, under the tar script', () => {
    expect(args.slice(args.indexOf('--'))).toEqual(['--', '/usr/bin/tini', '--', 'python3', 'src/a.py'])
    const collecting = bubblewrapArgs(profile({ collect: { fd: 3, shell: '/bin/sh', tar: '/usr/bin/tar' } }))
    expect(collecting.slice(collecting.indexOf('--'))).toEqual(['--', '/usr/bin/tini', '--', '/bin/sh', '-c', collectScript(3, '/usr/bin/tar'), 'sh', 'python3', 'src/a.py'])
    expect(collectScript(3, '/usr/bin/tar')).toContain('"$@" 3>&-')
  })
})

describe('launcher script', () => {
  test('cgroup backend: joins each group, sets CPU and file-size rlimits, no nproc or data rlimit', () => {
    const script = launcherScript({ limits: { ...DEFAULT_LIMITS, cpuMs: 2500, fileSizeMb: 3 }, procsFiles: ['/a', '/b'], dropTo: null, nproc: null, rlimitMemory: false })
    expect(script).toContain('ulimit -S -t 4 && ulimit -H -t 5')
    expect(script).toContain('ulimit -f 6144')
    expect(script).not.toContain('ulimit -p')
    expect(script).not.toContain('ulimit -d')
    expect(script).toMatch(/exec "\$@"$/)
  })

  test('rlimit backend: CPU seconds exact, processes and data capped', () => {
    const script = launcherScript({ limits: { ...DEFAULT_LIMITS, cpuMs: 1000, memoryMb: 64 }, procsFiles: [], dropTo: null, nproc: 32, rlimitMemory: true })
    expect(script).toContain('ulimit -S -t 1 && ulimit -H -t 2')
    expect(script).toContain('ulimit -p 32')
    expect(script).toContain('ulimit -d 65536')
  })

  test('a root launcher drops to the run uid with setpriv before bubblewrap', () => {
    const script = launcherScript({ limits: DEFAULT_LIMITS, procsFiles: ['/a'], dropTo: { setpriv: '/usr/bin/setpriv', uid: 200001, gid: 200001 }, nproc: null, rlimitMemory: false })
    expect(script).toMatch(/exec \/usr\/bin\/setpriv --reuid=200001 --regid=200001 --clear-groups -- "\$@"$/)
  })
})

describe('outcome classification', () => {
  const base: OutcomeInput = { killedFor: null, code: 0, signal: null, sample: null, limits: DEFAULT_LIMITS, largestFileSize: 0 }
  const sample = { cpuMs: 10, peakMemoryBytes: 1, oomKills: 0, pidsLimitHits: 0 }
  test.each([
    ['clean exit', {}, { exitCode: 0, signal: null, timedOut: false, limitHit: null }],
    ['plain failure', { code: 3 }, { exitCode: 3, signal: null, limitHit: null }],
    ['wall kill', { killedFor: 'wall', code: 137 }, { exitCode: 137, signal: 'SIGKILL', timedOut: true, limitHit: 'wall' }],
    ['output kill', { killedFor: 'output', code: 137 }, { timedOut: false, limitHit: 'output' }],
    ['launcher killed by a signal', { killedFor: 'wall', code: null, signal: 'SIGKILL' }, { exitCode: null, signal: 'SIGKILL', limitHit: 'wall' }],
    ['OOM seen in the cgroup', { code: 137, sample: { ...sample, oomKills: 1 } }, { signal: 'SIGKILL', limitHit: 'memory' }],
    ['pids limit seen', { code: 1, sample: { ...sample, pidsLimitHits: 4 } }, { limitHit: 'pids' }],
    ['CPU used up (cgroup)', { code: 0, sample: { ...sample, cpuMs: DEFAULT_LIMITS.cpuMs } }, { limitHit: 'cpu' }],
    ['SIGXCPU (rlimit)', { code: 152 }, { signal: 'SIGXCPU', limitHit: 'cpu' }],
    ['SIGXFSZ', { code: 153 }, { signal: 'SIGXFSZ', limitHit: 'fsize' }],
    ['file at the size cap (EFBIG handled by the program)', { code: 1, largestFileSize: DEFAULT_LIMITS.fileSizeMb * 1024 * 1024 }, { limitHit: 'fsize' }],
    ['status above any signal', { code: 255 }, { exitCode: 255, signal: null }],
  ] as const)('%s', (_name, over, expected) => {
    expect(classifyOutcome({ ...base, ...over } as OutcomeInput)).toMatchObject(expected)
  })

  test('signal numbers map through the status convention', () => {
    expect(signalOfStatus(128 + 9)).toBe('SIGKILL')
    expect(signalOfStatus(128)).toBeNull()
    expect(signalOfStatus(null)).toBeNull()
  })
})

describe('cgroup discovery', () => {
  const procCgroup = '9:name=systemd:/\n8:pids:/\n4:memory:/svc/node\n2:cpu,cpuacct:/svc\n0::/\n'
  const mountinfo = [
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:1 - cgroup cgroup rw,cpu,cpuacct',
    '35 31 0:32 /svc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    '50 23 0:40 / /mnt/with\\040space rw - ext4 /dev/x rw',
  ].join('\n')

  test('own groups per v1 controller, honouring the mount root; co-mounted controllers share a directory', () => {
    const dirs = ownV1Directories(parseProcCgroup(procCgroup), parseMountinfo(mountinfo), ['memory', 'pids', 'cpuacct', 'blkio'])
    expect(Object.fromEntries(dirs)).toEqual({
      memory: '/sys/fs/cgroup/memory/node',
      pids: '/sys/fs/cgroup/pids',
      cpuacct: '/sys/fs/cgroup/cpu,cpuacct/svc',
    })
  })

  test('v2 directory and escaped mount points', () => {
    const mounts = parseMountinfo(mountinfo)
    expect(ownV2Directory(parseProcCgroup('0::/system.slice/gryphgen.service\n'), mounts)).toBe('/sys/fs/cgroup/unified/system.slice/gryphgen.service')
    expect(mounts.find(m => m.fsType === 'ext4')?.mountPoint).toBe('/mnt/with space')
    expect(ownV2Directory(parseProcCgroup('4:memory:/x\n'), mounts)).toBeNull()
  })

  test('a path outside the mount root is not visible', () => {
    expect(cgroupDirectory({ root: '/a', mountPoint: '/m', fsType: 'cgroup', superOptions: [] }, '/b/c')).toBeNull()
    expect(cgroupDirectory({ root: '/a', mountPoint: '/m', fsType: 'cgroup', superOptions: [] }, '/a')).toBe('/m')
  })

  test('keyed counter files', () => {
    expect(Object.fromEntries(parseKeyedCounts('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n'))).toEqual({ oom_kill_disable: 0, under_oom: 0, oom_kill: 2 })
    expect(parseKeyedCounts('max 17').get('max')).toBe(17)
  })
})
