// @idlegrid/bundle: build, sign, encode, verify and cache task bundles.
// No networking here: the work protocol carries the bytes this package makes.
export { buildBundle } from './build.js'
export type { BuildBundleInit } from './build.js'
export { createBundleCache } from './cache.js'
export type { BundleCache, BundleCacheInit } from './cache.js'
export { bundleDigest, bundleId, canonicalBundleBytes, canonicalJson } from './canonical.js'
export type { Bundle } from './canonical.js'
export {
  BUNDLE_GLOBAL_NAME, BUNDLE_SIGNATURE_DOMAIN, DEFAULT_MAX_CACHE_BYTES, DEFAULT_MAX_SOURCE_BYTES, DEFAULT_REQUIREMENTS,
  MANIFEST_VERSION, MAX_HEADER_BYTES
} from './constants.js'
export { BundleBuildError, BundleRejected } from './errors.js'
export type { BuildMessage, BundleRejectReason } from './errors.js'
export { validateManifest, validateRequirements } from './manifest.js'
export type { BundleManifest } from './manifest.js'
export { bundleSigningBytes, decodeSignedBundle, encodeSignedBundle, signBundle, verifyBundle } from './signed.js'
export type { DecodeBundleOptions, SignedBundle, VerifyBundleOptions } from './signed.js'
