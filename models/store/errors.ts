/** The model store's typed errors; callers match on `err.name`. A bad file is ../errors.ts's InvalidModelFileError. */
import { GryphgenError } from '../../base/index.js'

/** No model of that name is in the store; `details` has `{ name }`. */
export class ModelNotFoundError extends GryphgenError {}

/** Another model (a different file digest) already has that name; `details` has `{ name, digest }`. */
export class ModelExistsError extends GryphgenError {}

/** A model name does not match MODEL_NAME_PATTERN; `details` has `{ name }`. */
export class InvalidModelNameError extends GryphgenError {}

/** A model URI is neither `hf:user/repo:quant`, `hf:user/repo/file.gguf` nor an https URL; `details` has `{ uri }`. */
export class InvalidModelUriError extends GryphgenError {}
