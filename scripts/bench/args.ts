/** Command-line numbers of the bench:* scripts: a bad one is reported and the script exits 2 (bad usage). */

/** `raw` as a number in (0, max], or exit 2 with a message naming `bench` and the flag. */
export function positiveArg (bench: string, name: string, raw: string | undefined, max: number): number {
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    process.stderr.write(`${bench}: --${name} must be a number in (0, ${max}], got ${raw}\n`)
    process.exit(2)
  }
  return n
}
