/**
 * A SentencePiece-style vocabulary with byte fallback, the shape llama.cpp's `llama` tokenizer
 * expects: special tokens, then the 256 byte tokens `<0x00>`..`<0xFF>`, then normal tokens
 * (`▁` marks a leading space). Any text round-trips: what no normal token covers falls back to
 * bytes. Every token string is unique; normal tokens are enumerated shortest first, so every
 * longer token is a merge of shorter ones, as SentencePiece's merging needs.
 */
import type { GgufValue } from '../gguf/types.js'

/** llama.cpp's token types. */
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const

export const SPECIAL_TOKENS = {
  unknown: { id: 0, text: '<unk>', type: TOKEN_TYPE.unknown },
  bos: { id: 1, text: '<s>', type: TOKEN_TYPE.control },
  eos: { id: 2, text: '</s>', type: TOKEN_TYPE.control },
  imStart: { id: 3, text: '<|im_start|>', type: TOKEN_TYPE.control },
  imEnd: { id: 4, text: '<|im_end|>', type: TOKEN_TYPE.control },
} as const

/** Fill-in-the-middle control tokens (StarCoder's names, which llama.cpp and node-llama-cpp recognize), in a model written with `fim`. */
export const FIM_TOKENS = ['<fim_prefix>', '<fim_suffix>', '<fim_middle>'] as const

/** ChatML, as Qwen and many fine-tunes use it. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

const SPACE = '\u2581'
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'

function * normalTokens (): Generator<string> {
  yield SPACE
  for (let code = 33; code < 127; code++) yield String.fromCharCode(code)
  for (const letter of LETTERS + LETTERS.toUpperCase()) yield SPACE + letter
  for (let length = 2; ; length++) {
    for (let i = 0; i < LETTERS.length ** length; i++) {
      let word = ''
      for (let n = i, k = 0; k < length; k++, n = Math.floor(n / LETTERS.length)) word = LETTERS[n % LETTERS.length] + word
      yield word
      yield SPACE + word
    }
  }
}

/**
 * The vocabulary's token strings, scores and types, `vocabSize` of each; `extra` tokens (a
 * scripted model's pieces) take the last ids, with the lowest scores; with `fim`, the
 * FIM_TOKENS (control tokens) come just before them.
 */
export function testVocabulary (vocabSize: number, extra: readonly string[] = [], fim = false): { tokens: string[], scores: number[], types: number[] } {
  const specials = Object.values(SPECIAL_TOKENS)
  const tokens: string[] = specials.map(t => t.text)
  const types: number[] = specials.map(t => t.type)
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`)
    types.push(TOKEN_TYPE.byte)
  }
  const scores: number[] = tokens.map(() => 0)
  const normal = normalTokens()
  let rank = 1
  const fimTokens = fim ? FIM_TOKENS : []
  for (; tokens.length < vocabSize - extra.length - fimTokens.length; rank++) {
    tokens.push(normal.next().value as string)
    types.push(TOKEN_TYPE.normal)
    scores.push(-rank)
  }
  for (const special of fimTokens) {
    tokens.push(special)
    types.push(TOKEN_TYPE.control)
    scores.push(0)
  }
  for (const piece of extra) {
    tokens.push(piece)
    types.push(TOKEN_TYPE.normal)
    scores.push(-(rank++))
  }
  return { tokens, scores, types }
}

/** The `tokenizer.*` metadata for a vocabulary of `vocabSize` tokens and a ChatML template (and FIM token ids, with `fim`). */
export function tokenizerMetadata (vocabSize: number, extra: readonly string[] = [], fim = false): Array<[string, GgufValue]> {
  const { tokens, scores, types } = testVocabulary(vocabSize, extra, fim)
  const fimIds = (['fim_pre', 'fim_suf', 'fim_mid'] as const).map((key, i): [string, GgufValue] => [`tokenizer.ggml.${key}_token_id`, { type: 'uint32', value: tokens.indexOf(FIM_TOKENS[i]) }])
  return [
    ...(fim ? fimIds : []),
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', values: tokens }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'float32', values: scores }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'int32', values: types }],
    ['tokenizer.ggml.bos_token_id', { type: 'uint32', value: SPECIAL_TOKENS.bos.id }],
    ['tokenizer.ggml.eos_token_id', { type: 'uint32', value: SPECIAL_TOKENS.eos.id }],
    ['tokenizer.ggml.eot_token_id', { type: 'uint32', value: SPECIAL_TOKENS.imEnd.id }],
    ['tokenizer.ggml.unknown_token_id', { type: 'uint32', value: SPECIAL_TOKENS.unknown.id }],
    ['tokenizer.ggml.padding_token_id', { type: 'uint32', value: SPECIAL_TOKENS.unknown.id }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ['tokenizer.chat_template', { type: 'string', value: CHATML_TEMPLATE }],
  ]
}
