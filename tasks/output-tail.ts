/**
 * The last lines a run printed, per stream, bounded: what a cancelled run leaves behind (its
 * sandbox is killed, so no result comes back from it). Pure.
 */
export const TAIL_BYTES = 16 * 1024

export class OutputTail {
  readonly #lines = { stdout: [] as string[], stderr: [] as string[] }
  readonly #bytes = { stdout: 0, stderr: 0 }
  readonly #cut = { stdout: false, stderr: false }

  constructor (readonly maxBytes = TAIL_BYTES) {}

  add (stream: string | undefined, line: string): void {
    if (stream !== 'stdout' && stream !== 'stderr') return
    const lines = this.#lines[stream]
    lines.push(`${line}\n`)
    this.#bytes[stream] += Buffer.byteLength(line) + 1
    while (this.#bytes[stream] > this.maxBytes && lines.length > 1) {
      this.#bytes[stream] -= Buffer.byteLength(lines.shift() as string)
      this.#cut[stream] = true
    }
  }

  /** In the shape of an exec result's output fields (`*Truncated`: earlier lines were dropped). */
  result (): Record<string, unknown> {
    return {
      stdout: this.#lines.stdout.join(''),
      stderr: this.#lines.stderr.join(''),
      ...(this.#cut.stdout ? { stdoutTruncated: true } : {}),
      ...(this.#cut.stderr ? { stderrTruncated: true } : {}),
      cancelled: true,
    }
  }
}
