/**
 * Large outputs become blob references: a task result lives in a ledger entry (at most
 * 256 KiB), so stdout, stderr or a collected file's content beyond INLINE_BYTES is put in
 * the blob store and replaced by `{ digest, size }` (the text keeps its first INLINE_BYTES
 * as a preview). Without a blob store the text is cut and marked truncated.
 */
import type { SandboxResult } from '../sandbox/index.js'

export const INLINE_BYTES = 16 * 1024

export interface BlobRef { digest: string, size: number }
export interface BlobSink {
  put: (bytes: Uint8Array, options: { signal?: AbortSignal }) => Promise<BlobRef>
  get: (digest: string, options: { signal?: AbortSignal }) => Promise<Uint8Array>
}

/** `text` inline when it fits `limit` bytes; else its first `limit` bytes and the whole in a blob. */
export async function inlineText (text: string, blobs: BlobSink | undefined, signal: AbortSignal, limit = INLINE_BYTES): Promise<{ text: string, blob?: BlobRef, cut: boolean }> {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.byteLength <= limit) return { text, cut: false }
  const preview = bytes.subarray(0, limit).toString('utf8').replace(/\uFFFD$/, '')
  if (blobs === undefined) return { text: preview, cut: true }
  return { text: preview, blob: await blobs.put(bytes, { signal }), cut: false }
}

/** The sandbox result as a task result: plain JSON, large texts moved to blobs. */
export async function offloadOutputs (result: SandboxResult, blobs: BlobSink | undefined, signal: AbortSignal): Promise<Record<string, unknown>> {
  const stdout = await inlineText(result.stdout, blobs, signal)
  const stderr = await inlineText(result.stderr, blobs, signal)
  let budget = 4 * INLINE_BYTES // inline content of all collected files together
  const files = []
  for (const file of result.files) {
    if (file.content === undefined) { files.push(file); continue }
    const size = Buffer.byteLength(file.content)
    if (size <= Math.min(budget, INLINE_BYTES)) { budget -= size; files.push(file); continue }
    const moved = await inlineText(file.content, blobs, signal, 0)
    const { content: _c, ...rest } = file
    files.push(moved.blob === undefined ? { ...rest, content: moved.text, contentTruncated: true } : { ...rest, blob: moved.blob })
  }
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    limitHit: result.limitHit,
    stdout: stdout.text,
    stderr: stderr.text,
    stdoutTruncated: result.stdoutTruncated || stdout.cut,
    stderrTruncated: result.stderrTruncated || stderr.cut,
    ...(stdout.blob === undefined ? {} : { stdoutBlob: stdout.blob }),
    ...(stderr.blob === undefined ? {} : { stderrBlob: stderr.blob }),
    files,
    filesTruncated: result.filesTruncated,
    usage: result.usage,
  }
}
