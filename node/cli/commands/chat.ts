/**
 * `gryphgen chat MODEL`: a conversation with a model of the mesh through the local node's
 * OpenAI route. Interactive: each line read is a user turn, the answer streams to stdout as it
 * is generated, the conversation is kept (`/reset` forgets it, `/exit` or end of input ends);
 * Ctrl-C stops the answer being generated, a second one (or one at the prompt) ends. `--json`:
 * one message (the argument, else all of stdin), one answer, printed as the chat.completion
 * object. Lines piped in work like typed ones (no prompt is shown then).
 */
import { createInterface } from 'node:readline'
import { ApiError } from '../../../base/index.js'
import { apiFetch, apiRequest, type LocalNode } from '../client.js'
import { onInterrupt } from '../interrupt.js'
import { writeError, writeJson } from '../output.js'
import { SseParser } from '../sse.js'

export interface ChatSettings { system?: string, maxTokens?: number, temperature?: number, seed?: number }
interface Message { role: 'system' | 'user' | 'assistant', content: string }

/** An answer may take long (a model loading on a busy node): bounded, but generously. */
const ANSWER_TIMEOUT_MS = 10 * 60_000

const requestBody = (model: string, messages: Message[], settings: ChatSettings, stream: boolean): Record<string, unknown> => ({
  model,
  messages,
  stream,
  ...(settings.maxTokens === undefined ? {} : { max_tokens: settings.maxTokens }),
  ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
  ...(settings.seed === undefined ? {} : { seed: settings.seed }),
})

const opening = (settings: ChatSettings): Message[] => settings.system === undefined ? [] : [{ role: 'system', content: settings.system }]

/** `--json`: one answer, as the OpenAI object. */
export async function chatOnce (local: LocalNode, model: string, message: string, settings: ChatSettings): Promise<void> {
  const messages = [...opening(settings), { role: 'user' as const, content: message }]
  writeJson(await apiRequest(local, 'POST', '/v1/chat/completions', { body: requestBody(model, messages, settings, false), signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) }))
}

/** Streams one answer to `out`; returns its text (what came before an interrupt). */
export async function streamAnswer (local: LocalNode, model: string, messages: Message[], settings: ChatSettings, out: (text: string) => void, signal: AbortSignal): Promise<string> {
  const response = await apiFetch(local, 'POST', '/v1/chat/completions', { body: requestBody(model, messages, settings, true), signal: AbortSignal.any([signal, AbortSignal.timeout(ANSWER_TIMEOUT_MS)]), accept: 'text/event-stream' })
  if (response.body === null) return ''
  const parser = new SseParser()
  const decoder = new TextDecoder()
  let text = ''
  const reader = response.body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return text
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        if (event.data === '[DONE]') return text
        const chunk = JSON.parse(event.data) as { choices?: Array<{ delta?: { content?: string } }>, error?: { message: string, name?: string } }
        if (chunk.error !== undefined) throw new ApiError(chunk.error.message, 502, chunk.error.name ?? 'ModelRunError')
        const piece = chunk.choices?.[0]?.delta?.content ?? ''
        if (piece !== '') { text += piece; out(piece) }
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err
    return text
  } finally {
    await reader.cancel().catch(() => undefined)
  }
}

/** The interactive loop over `input` lines; the answers go to stdout. */
export async function chatInteractive (local: LocalNode, model: string, settings: ChatSettings, input: NodeJS.ReadableStream = process.stdin): Promise<void> {
  const terminal = process.stdin.isTTY === true && input === process.stdin
  const lines = createInterface({ input, terminal, ...(terminal ? { output: process.stdout } : {}) })
  let messages = opening(settings)
  if (terminal) writeError(`chatting with ${model} through ${local.url} (/reset forgets the conversation, /exit or Ctrl-D ends)`)
  const ask = (): void => { if (terminal) { lines.setPrompt('> '); lines.prompt() } }
  ask()
  for await (const raw of lines) {
    const line = raw.trim()
    if (line === '/exit') break
    if (line === '/reset') { messages = opening(settings); ask(); continue }
    if (line === '') { ask(); continue }
    messages.push({ role: 'user', content: line })
    const interrupt = onInterrupt()
    try {
      const answer = await streamAnswer(local, model, messages, settings, piece => { process.stdout.write(piece) }, interrupt.signal)
      process.stdout.write('\n')
      messages.push({ role: 'assistant', content: answer })
    } catch (err) {
      messages.pop()
      process.stdout.write('\n')
      writeError(`gryphgen: ${(err as Error).message}`)
    } finally {
      interrupt.dispose()
    }
    ask()
  }
  lines.close()
}
