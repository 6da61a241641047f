/**
 * The dashboard in a real browser (headless Debian Chromium through playwright-core) against a
 * real 3-node mesh on loopback (in-process nodes, real HTTP API on 127.0.0.1): login with the
 * token (and a wrong one), all nodes on the Mesh page, a task seen live to `succeeded` with the
 * node it ran on, its output, cancel from the page, a build job's checkpoints and files; a
 * peer named like an HTML tag stays text. Screenshots of each page: .tmp/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { ModelStore, writeScriptedModel } from '../../models/index.js'
import { loadOrCreateApiToken } from '../../node/datadir/index.js'
import type { GryphgenNode } from '../../node/node.js'
import type { TaskViewT } from '../../protocols/index.js'
import { newSwarmKeyHex, nodeTracker, tempDir, waitFor } from '../helpers/nodes.js'
import { launch, shoot } from './browser.js'

const EVIL = '<img src=x onerror=alert(1)>'
const MODEL = 'scripted-coder'
const ADD_PY = 'def add(a, b):\n    return a + b\n'
const nodes = nodeTracker()
let a: GryphgenNode // the model; the dashboard is opened on this one
let b: GryphgenNode
let c: GryphgenNode // named like an HTML tag
let token: string
let browser: Browser
let page: Page
const dialogs: string[] = []
const requested: string[] = []

async function call<T> (method: string, path: string, body?: unknown): Promise<{ status: number, body: T }> {
  const res = await fetch(`${a.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  return { status: res.status, body: await res.json() as T }
}
const exec = (script: string): Record<string, unknown> => ({ kind: 'exec', command: ['sh', '-c', script], requirements: { cpus: 1, memoryMb: 64 } })
const open = async (hash: string): Promise<void> => { await page.goto(`${a.apiUrl}/${hash}`) }

beforeAll(async () => {
  const swarmKey = newSwarmKeyHex()
  a = await nodes.start({ swarmKey, name: 'alpha', modelWorkers: 1, models: { contextSize: 4096, sequences: 2 } })
  b = await nodes.start({ swarmKey, name: 'bravo', bootstrap: a.addresses(), execWorkers: 1, labels: ['coordinator'] })
  c = await nodes.start({ swarmKey, name: EVIL, bootstrap: a.addresses(), execWorkers: 1, labels: ['coordinator', 'gpu=none'] })
  token = await loadOrCreateApiToken(a.config.dataDir)
  const scripted = join(await tempDir(), 'scripted.gguf')
  await writeScriptedModel({ path: scripted, pieces: ['{"files":[{"path":"', 'add.py', '","content":"', JSON.stringify(ADD_PY).slice(1, -1), '"}]}'] })
  await (await ModelStore.open({ dataDir: a.config.dataDir })).add(scripted, { name: MODEL })
  await waitFor(() => a.peers().length === 2 && [b, c].every(n => n.meshModels().some(m => m.name === MODEL)) && a.peers().every(p => p.capabilities.sandbox?.available === true), 60_000)
  browser = await launch()
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  page.on('dialog', d => { dialogs.push(d.message()); void d.dismiss() })
  page.on('request', r => { requested.push(r.url()) })
})

afterAll(async () => {
  await browser?.close()
  await nodes.stopAll()
})

describe('the dashboard in a browser', () => {
  test('without a token only the login shows; a wrong token is refused with a clear message', async () => {
    await open('')
    await page.getByLabel('API token').waitFor()
    expect(await page.locator('nav').count()).toBe(0)
    await page.getByLabel('API token').fill('not-the-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(async () => page.getByTestId('login-error').textContent(), { timeout: 30_000 }).toMatch(/wrong token/i)
    await shoot(page, '0-login-wrong-token')
    expect(await page.locator('nav').count()).toBe(0)
  })

  test('the token from the URL fragment logs in, is wiped from the address bar and never sent in a URL; all 3 nodes show', async () => {
    await open(`#token=${token}`)
    await page.locator('nav').waitFor()
    expect(page.url()).not.toContain(token)
    expect(await page.evaluate(() => sessionStorage.getItem('gryphgen.token'))).toBe(token)
    await expect.poll(async () => page.getByTestId('node-row').count(), { timeout: 60_000 }).toBe(3)
    const names = await page.getByTestId('node-name').allTextContents()
    expect(names.sort()).toEqual([EVIL, 'alpha', 'bravo'].sort())
    expect(await page.locator('tr.self [data-testid=node-name]').textContent()).toBe('alpha')
    await page.getByTestId('chart-cpu').locator('canvas').waitFor()
    await shoot(page, '1-mesh')
  })

  test('a peer named like an HTML tag is shown as text: no element made of it, no script run', async () => {
    await open('#/mesh')
    await page.getByText(EVIL, { exact: true }).first().waitFor()
    expect(await page.locator('main img').count()).toBe(0)
    expect(await page.locator('img[src=x]').count()).toBe(0)
    expect(dialogs).toEqual([])
  })

  test('a task submitted through the API appears and reaches succeeded live, with the node it ran on; its page shows its output', async () => {
    await open('#/tasks')
    await page.getByRole('heading', { name: 'Tasks' }).waitFor()
    const { body: { id } } = await call<{ id: string }>('POST', '/v1/tasks', exec('echo hello-from-the-dashboard-test'))
    const row = page.locator(`tr[data-task="${id}"]`)
    await row.waitFor({ timeout: 60_000 })
    await expect.poll(async () => row.getByTestId('task-state').textContent(), { timeout: 90_000 }).toBe('succeeded')
    const view = (await call<TaskViewT>('GET', `/v1/tasks/${id}`)).body
    const ranOn = [a, b, c].find(n => n.peerId === view.attempts.at(-1)?.node)?.config.name
    expect(await row.getByTestId('task-node').textContent()).toBe(ranOn)
    await shoot(page, '2-tasks')
    await row.getByRole('link', { name: id }).click()
    await expect.poll(async () => page.getByTestId('result-stdout').textContent(), { timeout: 30_000 }).toContain('hello-from-the-dashboard-test')
    await expect.poll(async () => page.getByTestId('history-entry').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3)
    expect(await page.getByTestId('attempt-node').first().textContent()).toBe(ranOn)
    await shoot(page, '3-task')
  })

  test('a task no node can run shows why, in words, on the Tasks page', async () => {
    await open('#/tasks')
    const { body: { id } } = await call<{ id: string }>('POST', '/v1/tasks', { kind: 'exec', command: ['true'], requirements: { cpus: 1, memoryMb: 900_000_000 } })
    const row = page.locator(`tr[data-task="${id}"]`)
    await expect.poll(async () => row.getByTestId('blocked').textContent().catch(() => ''), { timeout: 60_000 }).toMatch(/memory/)
    expect(await row.getByTestId('task-state').textContent()).toBe('pending')
    await shoot(page, '2b-tasks-blocked')
    await call('DELETE', `/v1/tasks/${id}`)
  })

  test('a running task streams its output live to its page, and is cancelled from there', async () => {
    const { body: { id } } = await call<{ id: string }>('POST', '/v1/tasks', exec('for i in $(seq 1 120); do echo tick-$i; sleep 1; done'))
    await waitFor(async () => (await call<TaskViewT>('GET', `/v1/tasks/${id}`)).body.state === 'running', 60_000, 200)
    await open(`#/tasks/${id}`)
    // Lines printed after the page opened: they came through the event stream.
    await expect.poll(async () => (await page.getByTestId('task-output').textContent() ?? '').match(/tick-\d+/g)?.length ?? 0, { timeout: 60_000 }).toBeGreaterThanOrEqual(2)
    expect(await page.getByTestId('task-state').textContent()).toBe('running')
    await page.getByTestId('cancel').click()
    await expect.poll(async () => page.getByTestId('task-state').textContent(), { timeout: 60_000 }).toBe('cancelled')
    expect((await call<TaskViewT>('GET', `/v1/tasks/${id}`)).body.state).toBe('cancelled')
    await shoot(page, '4-task-cancelled')
  })

  test("a build job's checkpoints: test counts, decision, the files of a checkpoint; feedback", async () => {
    const submit = await call<{ id: string }>('POST', '/v1/tasks', {
      kind: 'build', specification: 'Write add.py with a function add(a, b) that returns the sum of a and b.', language: 'python', model: MODEL,
      tests: { files: { 'test_add.py': 'from add import add\n\ndef test_add():\n    assert add(2, 3) == 5\n' }, command: ['python3', '-m', 'pytest', '-q', '-rfE', '-p', 'no:cacheprovider'] },
      budget: { maxAttempts: 3, maxWallMs: 180_000 }, requirements: { labels: ['coordinator'] },
    })
    expect(submit.status, JSON.stringify(submit.body)).toBe(202)
    const { id } = submit.body
    await open('#/builds')
    await page.locator(`tr[data-task="${id}"]`).waitFor({ timeout: 60_000 })
    await waitFor(async () => ['succeeded', 'failed', 'cancelled'].includes((await call<TaskViewT>('GET', `/v1/tasks/${id}`)).body.state), 240_000, 500)
    await shoot(page, '5-builds')
    await page.locator(`tr[data-task="${id}"]`).getByRole('link', { name: id }).click()
    await expect.poll(async () => page.getByTestId('checkpoint').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1)
    expect(await page.getByTestId('checkpoint-tests').first().textContent()).toMatch(/^1 passed, 0 failed/)
    expect(await page.getByTestId('build-decision').textContent()).toMatch(/^done/)
    await page.getByTestId('checkpoint-file').first().click()
    await expect.poll(async () => page.getByTestId('file-content').textContent(), { timeout: 30_000 }).toBe(ADD_PY)
    await page.getByPlaceholder('note (optional)').fill('looks right')
    await page.getByRole('button', { name: 'Accept' }).click()
    await expect.poll(async () => page.getByTestId('feedback').first().textContent(), { timeout: 30_000 }).toContain('accept')
    await shoot(page, '6-build')
  }, 330_000)

  test('models, ledger (entries, version vector, sync lag per peer) and charts pages render from the node', async () => {
    await open('#/models')
    await expect.poll(async () => page.getByTestId('model-row').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1)
    expect(await page.getByTestId('model-row').first().textContent()).toContain(MODEL)
    await shoot(page, '7-models')
    await open('#/ledger')
    await expect.poll(async () => Number(await page.getByTestId('ledger-entries').textContent()), { timeout: 30_000 }).toBeGreaterThan(0)
    await expect.poll(async () => page.getByTestId('vv-row').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1)
    await expect.poll(async () => page.getByTestId('lag-row').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(1)
    await shoot(page, '8-ledger')
    await open('#/mesh')
    for (const chart of ['chart-tasks', 'chart-queue', 'chart-cpu']) await page.getByTestId(chart).locator('canvas').waitFor()
    await shoot(page, '9-mesh-charts')
    // Never a token in a URL the browser asked for; nothing asked of another origin.
    expect(requested.filter(u => u.includes(token))).toEqual([])
    expect(requested.filter(u => !u.startsWith(a.apiUrl))).toEqual([])
    expect(dialogs).toEqual([])
  })
})
