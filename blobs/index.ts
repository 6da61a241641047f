/** Content-addressed blobs: the local store, and the service that fetches them from peers. */
export { BlobStore, DEFAULT_MAX_BLOB_BYTES, type BlobStoreInit, type BlobOptions, type StoredBlob } from './store.js'
export { BlobPins, MAX_PINS, type PinDb } from './pins.js'
export { BlobCollector, planCollection, type BlobReferences, type ReferencedBlobs, type CollectionPolicy, type CollectionPlan, type CollectionStats, type BlobCollectorInit } from './gc.js'
export { createBlobService, type BlobService, type BlobServiceComponents, type BlobServiceInit, type BlobGetOptions, type BlobServiceStats } from './service.js'
export { InvalidDigestError, BlobTooLargeError, BlobCorruptError, BlobStoreError, BlobNotFoundError, BlobPeerError, BlobOptionsError, TooManyPinsError } from './errors.js'
export { sha256Hex, assertDigest, blobCid } from './digest.js'
export type { BlobRef } from '../protocols/index.js'
export type { BlobsMesh } from './mesh.js'
