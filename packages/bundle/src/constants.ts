// Limits and fixed names of the bundle format.

/** The global the bundled script defines; its `.default` is the job function. */
export const BUNDLE_GLOBAL_NAME = '__idlegridJob'

/** Manifest format version this package writes and accepts. */
export const MANIFEST_VERSION = 1

/** Default cap on a bundle's source, in UTF-8 bytes (8 MiB). */
export const DEFAULT_MAX_SOURCE_BYTES = 8 * 1024 * 1024

/** Default cap on a volunteer's bundle cache on disk (256 MiB: 32 bundles at the largest, thousands of typical ones). */
export const DEFAULT_MAX_CACHE_BYTES = 256 * 1024 * 1024

/** Cap on the encoded header (id, manifest, signature) of a transported bundle. */
export const MAX_HEADER_BYTES = 64 * 1024

/** First bytes of an encoded signed bundle: format name and version. */
export const ENVELOPE_MAGIC = 'IGB1'

/** Prefix of the bytes a submitter signs, so the signature cannot be reused for anything else. */
export const BUNDLE_SIGNATURE_DOMAIN = 'idlegrid-bundle-v1:'

/** Requirements used by buildBundle for fields the caller leaves out. */
export const DEFAULT_REQUIREMENTS = {
  cores: 1,
  memoryMb: 256,
  timeoutMs: 60_000,
  gpu: false,
  deterministic: false
} as const

export const MAX_CORES = 1024
export const MIN_MEMORY_MB = 8
export const MAX_MEMORY_MB = 1024 * 1024
export const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000
export const MAX_REPLICAS = 16
export const MAX_BATCH = 1_000_000
export const MAX_NAME_LENGTH = 128
export const MAX_ENTRY_LENGTH = 256
