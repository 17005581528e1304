// Signing, verifying and the transport encoding of signed bundles.
import { InvalidInputError } from '@idlegrid/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { bundleId, canonicalJson } from './canonical.js'
import {
  BUNDLE_SIGNATURE_DOMAIN, DEFAULT_MAX_SOURCE_BYTES, ENVELOPE_MAGIC, MAX_HEADER_BYTES
} from './constants.js'
import { BundleRejected } from './errors.js'
import { hasLoneSurrogate, validateManifest } from './manifest.js'
import type { Bundle } from './canonical.js'
import type { BundleManifest } from './manifest.js'
import type { PrivateKey } from '@libp2p/interface'

/** A bundle with its id and the submitter's Ed25519 signature over the id. */
export interface SignedBundle {
  /** Lowercase hex sha256 of the canonical encoding of { manifest, source }. */
  id: string
  manifest: BundleManifest
  source: string
  /** 64-byte signature over BUNDLE_SIGNATURE_DOMAIN + the 32 raw bytes of the id. */
  signature: Uint8Array
}

export interface VerifyBundleOptions {
  /** PeerId (string) of the authenticated connection the bundle came over; must be the submitter. */
  signer: string
  /** Largest source accepted, UTF-8 bytes. Default DEFAULT_MAX_SOURCE_BYTES (8 MiB). */
  maxBytes?: number
  /** Owner policy: return false to refuse bundles from this signer. Default: trust every signer. */
  trusted?(peerId: string): boolean
}

export interface DecodeBundleOptions {
  /** Largest source accepted, UTF-8 bytes. Default DEFAULT_MAX_SOURCE_BYTES (8 MiB). */
  maxBytes?: number
}

const SIGNED_KEYS = ['id', 'manifest', 'signature', 'source']
const HEADER_KEYS = ['id', 'manifest', 'signature']
const MANIFEST_KEYS = ['batch', 'createdAt', 'entry', 'name', 'replicas', 'requirements', 'submitter', 'version']
const ONLY_SOURCE = 'bundles carry JavaScript source only (no V8 cached data, snapshots or other payloads)'
const utf8 = new TextEncoder()

/** The bytes a submitter signs for a bundle id. */
export function bundleSigningBytes (id: string): Uint8Array {
  return uint8ArrayConcat([utf8.encode(BUNDLE_SIGNATURE_DOMAIN), uint8ArrayFromString(id, 'base16')])
}

function sourceProblem (source: unknown): string | undefined {
  if (typeof source !== 'string') {
    return `the bundle source must be JavaScript text, got ${source instanceof Uint8Array ? 'binary data' : typeof source}`
  }
  if (source.includes('\u0000')) {
    return 'the bundle source contains NUL bytes: it is not JavaScript text'
  }
  if (hasLoneSurrogate(source)) {
    return 'the bundle source is not valid UTF-8 text'
  }
  return undefined
}

/**
 * Checks the manifest and source, and signs the bundle id with the
 * submitter's key. The key must belong to `manifest.submitter`.
 */
export async function signBundle (bundle: Bundle, privateKey: PrivateKey): Promise<SignedBundle> {
  const manifest = validateManifest(bundle.manifest)
  const problem = sourceProblem(bundle.source)
  if (problem != null) {
    throw new InvalidInputError(problem)
  }
  const keyOwner = peerIdFromPrivateKey(privateKey).toString()
  if (keyOwner !== manifest.submitter) {
    throw new InvalidInputError(`manifest.submitter is ${manifest.submitter} but the signing key belongs to ${keyOwner}: build the bundle with this node's PeerId as submitter`)
  }
  const id = bundleId({ manifest, source: bundle.source })
  const signature = await privateKey.sign(bundleSigningBytes(id))
  return { id, manifest, source: bundle.source, signature: new Uint8Array(signature) }
}

/**
 * Bytes for transport: "IGB1", a big-endian uint32 header length, the header
 * (canonical JSON of { id, manifest, signature: base64 }), then the source as
 * UTF-8. The source is not escaped, so its size on the wire is its own size.
 */
export function encodeSignedBundle (signed: SignedBundle): Uint8Array {
  const header = utf8.encode(canonicalJson({
    id: signed.id,
    manifest: signed.manifest,
    signature: uint8ArrayToString(signed.signature, 'base64pad')
  }))
  const source = utf8.encode(signed.source)
  const out = new Uint8Array(8 + header.byteLength + source.byteLength)
  out.set(utf8.encode(ENVELOPE_MAGIC), 0)
  new DataView(out.buffer).setUint32(4, header.byteLength)
  out.set(header, 8)
  out.set(source, 8 + header.byteLength)
  return out
}

function reject (reason: ConstructorParameters<typeof BundleRejected>[0], message: string, cause?: unknown): never {
  throw new BundleRejected(reason, message, { cause })
}

/**
 * Parses transported bytes into a SignedBundle, refusing oversize input and
 * any field it does not know. It does not check the id or signature: call
 * verifyBundle on the result.
 */
export function decodeSignedBundle (bytes: Uint8Array, options: DecodeBundleOptions = {}): SignedBundle {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SOURCE_BYTES
  if (!(bytes instanceof Uint8Array)) {
    reject('malformed', 'a signed bundle must be bytes')
  }
  if (bytes.byteLength > 8 + MAX_HEADER_BYTES + maxBytes) {
    reject('oversize', `the bundle is ${bytes.byteLength} bytes, over the limit of ${maxBytes} bytes of source: make the job smaller or raise the volunteer's limit`)
  }
  if (bytes.byteLength < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== ENVELOPE_MAGIC) {
    reject('malformed', `the data is not a signed bundle (expected it to start with ${ENVELOPE_MAGIC})`)
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4)
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.byteLength) {
    reject('malformed', `the bundle header length ${headerLength} is beyond the data (${bytes.byteLength} bytes) or over ${MAX_HEADER_BYTES} bytes: the bundle is truncated or corrupt`)
  }
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)))
  } catch (err) {
    reject('malformed', 'the bundle header is not valid UTF-8 JSON: the bundle is truncated or corrupt', err)
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    reject('malformed', 'the bundle header is not a JSON object')
  }
  const fields = header as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    if (!HEADER_KEYS.includes(key)) {
      reject('extra-field', `the bundle carries an unknown field '${key}': ${ONLY_SOURCE}`)
    }
  }
  if (typeof fields.id !== 'string' || !/^[0-9a-f]{64}$/.test(fields.id)) {
    reject('malformed', 'the bundle id must be 64 lowercase hex characters (a sha256)')
  }
  if (typeof fields.signature !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(fields.signature)) {
    reject('bad-signature', 'the bundle has no signature: the submitter must sign it')
  }
  const sourceBytes = bytes.subarray(8 + headerLength)
  if (sourceBytes.byteLength > maxBytes) {
    reject('oversize', `the bundle source is ${sourceBytes.byteLength} bytes, over the limit of ${maxBytes}: make the job smaller or raise the volunteer's limit`)
  }
  let source: string
  try {
    source = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(sourceBytes)
  } catch (err) {
    reject('bad-source', 'the bundle source is not valid UTF-8 text', err)
  }
  let signature: Uint8Array
  try {
    signature = uint8ArrayFromString(fields.signature as string, 'base64pad')
  } catch (err) {
    reject('bad-signature', 'the bundle signature is not valid base64', err)
  }
  return { id: fields.id as string, manifest: fields.manifest as BundleManifest, source, signature }
}

/**
 * Verifies a signed bundle before anything runs it: structure, size, source
 * text, manifest, id (content hash), signer and signature, then the owner's
 * trust policy. Throws BundleRejectedError (class BundleRejected) with a
 * `reason` and a message the submitter can be shown; returns a clean copy.
 */
export async function verifyBundle (signed: SignedBundle, options: VerifyBundleOptions): Promise<SignedBundle> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SOURCE_BYTES
  if (typeof signed !== 'object' || signed === null) {
    reject('malformed', 'a signed bundle must be an object')
  }
  for (const key of Object.keys(signed)) {
    if (!SIGNED_KEYS.includes(key)) {
      reject('extra-field', `the bundle carries an unknown field '${key}': ${ONLY_SOURCE}`)
    }
  }
  const problem = sourceProblem(signed.source)
  if (problem != null) {
    reject('bad-source', problem)
  }
  const sourceBytes = Buffer.byteLength(signed.source, 'utf8')
  if (sourceBytes > maxBytes) {
    reject('oversize', `the bundle source is ${sourceBytes} bytes, over the limit of ${maxBytes}: make the job smaller or raise the volunteer's limit`)
  }
  if (typeof signed.manifest === 'object' && signed.manifest !== null) {
    for (const key of Object.keys(signed.manifest)) {
      if (!MANIFEST_KEYS.includes(key)) {
        reject('extra-field', `the bundle manifest carries an unknown field '${key}': ${ONLY_SOURCE}`)
      }
    }
  }
  let manifest: BundleManifest
  try {
    manifest = validateManifest(signed.manifest)
  } catch (err) {
    reject('bad-manifest', `the bundle manifest is invalid: ${(err as Error).message}`, err)
  }
  const id = bundleId({ manifest, source: signed.source })
  if (signed.id !== id) {
    reject('id-mismatch', `the bundle's content does not match its id ${String(signed.id)}: it was changed after it was signed`)
  }
  if (options.signer !== manifest.submitter) {
    reject('signer-mismatch', `the bundle says it was submitted by ${manifest.submitter} but it came from ${options.signer}: only the submitter may hand out its bundles`)
  }
  if (!(signed.signature instanceof Uint8Array) || signed.signature.byteLength === 0) {
    reject('bad-signature', 'the bundle has no signature: the submitter must sign it')
  }
  let valid = false
  try {
    const publicKey = peerIdFromString(manifest.submitter).publicKey
    valid = publicKey != null && await publicKey.verify(bundleSigningBytes(id), signed.signature)
  } catch (err) {
    reject('bad-signature', 'the bundle signature could not be checked', err)
  }
  if (!valid) {
    reject('bad-signature', `the bundle signature is not valid for submitter ${manifest.submitter}`)
  }
  if (options.trusted != null && !options.trusted(manifest.submitter)) {
    reject('untrusted-signer', `this volunteer does not run bundles signed by ${manifest.submitter}: ask its owner to add that PeerId to the trusted signers`)
  }
  return { id, manifest, source: signed.source, signature: new Uint8Array(signed.signature) }
}
