// The bundle manifest: its type and the validation every manifest passes,
// whether built here or decoded from a peer.
import { InvalidInputError } from '@idlegrid/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  MANIFEST_VERSION, MAX_BATCH, MAX_CORES, MAX_ENTRY_LENGTH, MAX_MEMORY_MB, MAX_NAME_LENGTH,
  MAX_REPLICAS, MAX_TIMEOUT_MS, MIN_MEMORY_MB
} from './constants.js'
import type { TaskRequirements } from '@idlegrid/interface'

export interface BundleManifest {
  version: 1
  /** Human-readable job name (defaults to the entry file's base name). */
  name: string
  /** The entry file's name as given to buildBundle (informational). */
  entry: string
  requirements: TaskRequirements
  /** How many volunteers run each task (1 = no replication). */
  replicas: number
  /** Input records per task. */
  batch: number
  /** PeerId (string) of the submitter who signs the bundle. */
  submitter: string
  /** Creation time, ms since the Unix epoch. */
  createdAt: number
}

const MANIFEST_KEYS = ['batch', 'createdAt', 'entry', 'name', 'replicas', 'requirements', 'submitter', 'version']
const REQUIREMENT_KEYS = ['cores', 'deterministic', 'gpu', 'memoryMb', 'timeoutMs']

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) &&
    (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)
}

function checkKeys (where: string, value: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new InvalidInputError(`${where} has an unknown field '${key}': allowed fields are ${allowed.join(', ')}`)
    }
  }
  for (const key of allowed) {
    if (!(key in value)) {
      throw new InvalidInputError(`${where} is missing the field '${key}'`)
    }
  }
}

function checkInt (where: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`${where} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return value
}

function checkText (where: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new InvalidInputError(`${where} must be a non-empty string of at most ${max} characters, got ${JSON.stringify(value)}`)
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value) || hasLoneSurrogate(value)) {
    throw new InvalidInputError(`${where} must not contain control characters or unpaired surrogates`)
  }
  return value
}

/** True when a string holds a UTF-16 surrogate that is not part of a pair (it has no UTF-8 form). */
export function hasLoneSurrogate (value: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)
}

function checkBoolean (where: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidInputError(`${where} must be true or false, got ${JSON.stringify(value)}`)
  }
  return value
}

/** Checks a PeerId string names an Ed25519/secp256k1 key that can verify signatures. */
export function checkSubmitter (where: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) {
    throw new InvalidInputError(`${where} must be a PeerId string, got ${JSON.stringify(value)}`)
  }
  let peerId
  try {
    peerId = peerIdFromString(value)
  } catch (err) {
    throw new InvalidInputError(`${where} is not a valid PeerId: ${JSON.stringify(value)}`, { cause: err })
  }
  if (peerId.publicKey == null) {
    throw new InvalidInputError(`${where} must be a PeerId that embeds its public key (Ed25519), got an ${peerId.type} PeerId`)
  }
  if (peerId.toString() !== value) {
    throw new InvalidInputError(`${where} must be written in the canonical base58 form ${peerId.toString()}`)
  }
  return value
}

/** Checks TaskRequirements field by field; throws InvalidInputError naming the bad field. */
export function validateRequirements (value: unknown, where = 'manifest.requirements'): TaskRequirements {
  if (!isPlainObject(value)) {
    throw new InvalidInputError(`${where} must be an object with ${REQUIREMENT_KEYS.join(', ')}`)
  }
  checkKeys(where, value, REQUIREMENT_KEYS)
  return {
    cores: checkInt(`${where}.cores`, value.cores, 1, MAX_CORES),
    memoryMb: checkInt(`${where}.memoryMb`, value.memoryMb, MIN_MEMORY_MB, MAX_MEMORY_MB),
    timeoutMs: checkInt(`${where}.timeoutMs`, value.timeoutMs, 1, MAX_TIMEOUT_MS),
    gpu: checkBoolean(`${where}.gpu`, value.gpu),
    deterministic: checkBoolean(`${where}.deterministic`, value.deterministic)
  }
}

/**
 * Checks every field of a manifest and returns a fresh copy holding only the
 * known fields. Throws InvalidInputError that names the field and the rule.
 */
export function validateManifest (value: unknown): BundleManifest {
  if (!isPlainObject(value)) {
    throw new InvalidInputError('manifest must be an object')
  }
  checkKeys('manifest', value, MANIFEST_KEYS)
  if (value.version !== MANIFEST_VERSION) {
    throw new InvalidInputError(`manifest.version must be ${MANIFEST_VERSION}, got ${JSON.stringify(value.version)}: this node understands manifest version ${MANIFEST_VERSION} only`)
  }
  return {
    version: MANIFEST_VERSION,
    name: checkText('manifest.name', value.name, MAX_NAME_LENGTH),
    entry: checkText('manifest.entry', value.entry, MAX_ENTRY_LENGTH),
    requirements: validateRequirements(value.requirements),
    replicas: checkInt('manifest.replicas', value.replicas, 1, MAX_REPLICAS),
    batch: checkInt('manifest.batch', value.batch, 1, MAX_BATCH),
    submitter: checkSubmitter('manifest.submitter', value.submitter),
    createdAt: checkInt('manifest.createdAt', value.createdAt, 0, Number.MAX_SAFE_INTEGER)
  }
}
