/**
 * Retrieval (SYMORG): corpora of text and code that generation draws its context from.
 * Documents are chunked by function, class, heading or paragraph (chunk.ts), tokenized for
 * code and prose alike (tokenize.ts), indexed for BM25 in the node's LevelDB (layout.ts) and,
 * with an injected embedding function, ranked by fusing BM25 with cosine similarity (fuse.ts).
 * A corpus travels to peers as one blob (blob.ts). Errors: CorpusNotFoundError,
 * InvalidCorpusNameError, EmptyQueryError, InvalidCorpusError, InvalidEmbeddingError,
 * CorpusOptionsError, InvalidDocumentsError, IndexerFailedError; an abort is base/errors.ts's
 * AbortedError. Uploads (`addBody`) are parsed and prepared, and their postings merged, on a
 * worker thread (indexer.ts, merge.ts).
 */
export { CorpusStore, MAX_K, type AddDirOptions, type AddDirResult, type AddOptions, type AddResult, type CorpusStoreInit, type CorpusSummary, type QueryOptions, type QueryResult } from './store.js'
export { chunkDocument, DEFAULT_CHUNK_LIMITS, type Chunk, type ChunkLimits } from './chunk.js'
export { documentKind, type DocumentKind } from './sections.js'
export { tokenize, queryTerms, TOKENIZER_VERSION } from './tokenize.js'
export { K1, B, idf, scoreBm25, topK } from './bm25.js'
export { fuse, RRF_K, type Fused } from './fuse.js'
export { EMBED_BATCH, type EmbedFunction } from './embed.js'
export { CORPUS_BLOB_FORMAT, decodeCorpusBlob } from './blob.js'
export { CORPUS_NAME_PATTERN, assertCorpusName } from './layout.js'
export { readTextFiles, includeMatcher, SKIPPED_DIRS, type FileOutcome, type SkipReason, type TextFileOptions } from './files.js'
export { CorpusNotFoundError, InvalidCorpusNameError, EmptyQueryError, InvalidCorpusError, InvalidEmbeddingError, CorpusOptionsError, InvalidDocumentsError, IndexerFailedError } from './errors.js'
export { DocumentsSchema, parseDocumentsBody } from './documents.js'
export { DocumentIndexer, type DocumentIndexerInit } from './indexer.js'
export { prepareDocuments, type PreparedDocuments } from './prepare.js'
