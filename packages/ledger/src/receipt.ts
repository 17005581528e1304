// Receipt rules shared by issuer and worker: field limits, the bytes that are
// signed and hashed, strict decoding and signature checks.
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { MAX_RECEIPT_ID_LENGTH, MAX_RECEIPT_SIZE, MAX_RECEIPT_TASKS, RECEIPT_HASH_LENGTH, RECEIPT_SIGNATURE_DOMAIN, Receipt } from '@idlegrid/protocol-receipt'
import { peerIdFromString } from '@libp2p/peer-id'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { ReceiptRejected } from './errors.js'
import type { PrivateKey, PublicKey } from '@libp2p/interface'

export { Receipt }

/** A receipt before it is signed; `moreTaskIds` may be left out for a one-task receipt. */
export type UnsignedReceipt = Omit<Receipt, 'signature' | 'moreTaskIds'> & { moreTaskIds?: string[] }

/** Most CPU time one receipt may credit (all its tasks together): 24 h on 1024 cores. */
export const MAX_RECEIPT_CPU_MS = 24 * 60 * 60 * 1000 * 1024

/** Milli-credits per CPU millisecond: 1 credit = 1 CPU-second on one core. */
export const MILLI_CREDITS_PER_CPU_MS = 1

/** Ed25519 signature length. */
const SIGNATURE_LENGTH = 64

const utf8 = new TextEncoder()

/** Credits for measured CPU time, in milli-credits (see docs/credit.md). */
export function milliCreditsFor (cpuMs: number): number {
  return Math.floor(cpuMs * MILLI_CREDITS_PER_CPU_MS)
}

/** Every task a receipt pays for, in order: `taskId`, then `moreTaskIds`. */
export function receiptTaskIds (receipt: Pick<Receipt, 'taskId' | 'moreTaskIds'>): string[] {
  return receipt.moreTaskIds.length === 0 ? [receipt.taskId] : [receipt.taskId, ...receipt.moreTaskIds]
}

/** The canonical encoding of a receipt without its signature: what is hashed and (after the domain prefix) signed. */
export function unsignedReceiptBytes (receipt: UnsignedReceipt | Receipt): Uint8Array {
  return Receipt.encode({ ...receipt, signature: new Uint8Array(0) })
}

const signingPrefix = utf8.encode(RECEIPT_SIGNATURE_DOMAIN)

/** The bytes an issuer signs: RECEIPT_SIGNATURE_DOMAIN followed by the unsigned encoding. */
export function receiptSigningBytes (receipt: UnsignedReceipt | Receipt): Uint8Array {
  return uint8ArrayConcat([signingPrefix, unsignedReceiptBytes(receipt)])
}

/** sha256 of the unsigned encoding (32 bytes); the next receipt's prevHash. */
export function receiptHashBytes (receipt: UnsignedReceipt | Receipt): Uint8Array {
  return new Uint8Array(createHash('sha256').update(unsignedReceiptBytes(receipt)).digest())
}

/** The receipt hash as lowercase hex: how the ledger names a receipt (acknowledgements use it). */
export function receiptHash (receipt: UnsignedReceipt | Receipt): string {
  return createHash('sha256').update(unsignedReceiptBytes(receipt)).digest('hex')
}

/** The full encoding (with signature) for transport and storage. */
export function encodeReceipt (receipt: Receipt): Uint8Array {
  return Receipt.encode(receipt)
}

const publicKeys = new Map<string, PublicKey>()

/** The public key inside a PeerId string; throws ReceiptRejected('bad-field') when there is none. */
export function publicKeyOf (peer: string, field: string): PublicKey {
  const cached = publicKeys.get(peer)
  if (cached != null) {
    return cached
  }
  let key: PublicKey | undefined
  try {
    const peerId = peerIdFromString(peer)
    key = peerId.publicKey
    if (peerId.toString() !== peer) {
      key = undefined
    }
  } catch {}
  if (key == null) {
    throw new ReceiptRejected('bad-field', `receipt ${field} ${JSON.stringify(peer)} is not a PeerId with an embedded Ed25519 key`)
  }
  if (publicKeys.size > 10_000) {
    publicKeys.clear()
  }
  publicKeys.set(peer, key)
  return key
}

function checkId (field: string, value: string): void {
  const length = typeof value === 'string' ? Buffer.byteLength(value) : 0
  if (length === 0 || length > MAX_RECEIPT_ID_LENGTH) {
    throw new ReceiptRejected('bad-field', `receipt ${field} must be 1 to ${MAX_RECEIPT_ID_LENGTH} bytes, got ${length}`)
  }
}

const tooManyTasks = (count: number): ReceiptRejected =>
  new ReceiptRejected('bad-field', `a receipt pays for at most ${MAX_RECEIPT_TASKS} tasks (taskId and ${MAX_RECEIPT_TASKS - 1} moreTaskIds), got ${count}`)

function checkTaskIds (receipt: Receipt): void {
  checkId('taskId', receipt.taskId)
  const more = receipt.moreTaskIds
  if (!Array.isArray(more)) {
    throw new ReceiptRejected('bad-field', 'receipt moreTaskIds must be a list of task ids')
  }
  if (more.length === 0) {
    return
  }
  if (more.length > MAX_RECEIPT_TASKS - 1) {
    throw tooManyTasks(more.length + 1)
  }
  const seen = new Set([receipt.taskId])
  for (const [i, id] of more.entries()) {
    checkId(`moreTaskIds[${i}]`, id)
    if (seen.has(id)) {
      throw new ReceiptRejected('bad-field', `receipt task ${JSON.stringify(id)} is listed twice: a receipt pays each task once`)
    }
    seen.add(id)
  }
}

function checkCount (field: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ReceiptRejected('bad-field', `receipt ${field} must be a whole number from ${min} to ${max}, got ${value}`)
  }
}

/** Checks every field's shape (not the signature). Throws ReceiptRejected('bad-field'). */
export function checkReceiptFields (receipt: Receipt): void {
  publicKeyOf(receipt.issuer, 'issuer')
  publicKeyOf(receipt.worker, 'worker')
  checkId('jobId', receipt.jobId)
  checkTaskIds(receipt)
  checkCount('cpuMs', receipt.cpuMs, 0, MAX_RECEIPT_CPU_MS)
  checkCount('milliCredits', receipt.milliCredits, 0, milliCreditsFor(MAX_RECEIPT_CPU_MS))
  checkCount('seq', receipt.seq, 1, Number.MAX_SAFE_INTEGER)
  checkCount('timestamp', receipt.timestamp, 1, Number.MAX_SAFE_INTEGER)
  const expected = receipt.seq === 1 ? 0 : RECEIPT_HASH_LENGTH
  if (receipt.prevHash.byteLength !== expected) {
    throw new ReceiptRejected('bad-field', `receipt prevHash must be ${expected} bytes for seq ${receipt.seq}, got ${receipt.prevHash.byteLength}`)
  }
  if (receipt.signature.byteLength !== SIGNATURE_LENGTH) {
    throw new ReceiptRejected('bad-signature', `receipt signature must be ${SIGNATURE_LENGTH} bytes, got ${receipt.signature.byteLength}: the receipt is unsigned or truncated`)
  }
}

/**
 * Decodes transported bytes, refusing oversize, truncated or garbled input
 * and any encoding that is not exactly the canonical one (unknown fields,
 * repeated or reordered fields, trailing bytes). Checks field shapes (task
 * ids included: at most MAX_RECEIPT_TASKS, each 1 to MAX_RECEIPT_ID_LENGTH
 * bytes, no repeats), not the signature.
 */
export function decodeReceipt (bytes: Uint8Array): Receipt {
  if (!(bytes instanceof Uint8Array)) {
    throw new ReceiptRejected('garbled', 'a receipt must be bytes')
  }
  if (bytes.byteLength > MAX_RECEIPT_SIZE) {
    throw new ReceiptRejected('oversize', `the receipt is ${bytes.byteLength} bytes, over the limit of ${MAX_RECEIPT_SIZE}`)
  }
  let receipt: Receipt
  try {
    receipt = Receipt.decode(bytes, { limits: { moreTaskIds: MAX_RECEIPT_TASKS - 1 } })
  } catch (err) {
    if ((err as Error).name === 'MaxLengthError') {
      throw tooManyTasks(MAX_RECEIPT_TASKS + 1)
    }
    throw new ReceiptRejected('garbled', `the receipt bytes do not decode (${(err as Error).message}): they are truncated or corrupt`, { cause: err })
  }
  let canonical: Uint8Array
  try {
    canonical = Receipt.encode(receipt)
  } catch (err) {
    throw new ReceiptRejected('garbled', 'the receipt holds values that do not re-encode', { cause: err })
  }
  if (!uint8ArrayEquals(canonical, bytes)) {
    throw new ReceiptRejected('non-canonical', 'the receipt is not canonically encoded (unknown, repeated or out-of-order fields, or trailing bytes)')
  }
  checkReceiptFields(receipt)
  return receipt
}

// Node key objects of Ed25519 keys, made once per key: @libp2p/crypto
// imports the key from JWK on every sign and verify, which is most of what
// either costs (measured: 74 µs a signature, 91 µs a check, against ~25 and
// ~50 µs with a kept key object). The signatures are the same bytes: Ed25519
// is deterministic.
const signingKeys = new WeakMap<PrivateKey, KeyObject>()
const checkingKeys = new Map<string, KeyObject>()

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')

function signingKey (privateKey: PrivateKey): KeyObject | undefined {
  if (privateKey.type !== 'Ed25519' || privateKey.raw.byteLength !== 64) {
    return undefined
  }
  let key = signingKeys.get(privateKey)
  if (key == null) {
    key = createPrivateKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', d: base64url(privateKey.raw.subarray(0, 32)), x: base64url(privateKey.raw.subarray(32)) } })
    signingKeys.set(privateKey, key)
  }
  return key
}

function checkingKey (peer: string, publicKey: PublicKey): KeyObject | undefined {
  if (publicKey.type !== 'Ed25519' || publicKey.raw.byteLength !== 32) {
    return undefined
  }
  let key = checkingKeys.get(peer)
  if (key == null) {
    key = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: base64url(publicKey.raw) } })
    if (checkingKeys.size > 10_000) {
      checkingKeys.clear()
    }
    checkingKeys.set(peer, key)
  }
  return key
}

/** A signed receipt with its hash and its signed encoding. */
export interface SealedReceipt {
  receipt: Receipt
  /** Lowercase hex sha256 of the unsigned encoding. */
  hash: string
  /** The signed encoding. */
  bytes: Uint8Array
}

/**
 * Signs a receipt and encodes it, encoding the unsigned form once for both
 * the hash and the signature (what issuing costs per receipt).
 */
export async function sealReceipt (unsigned: UnsignedReceipt, privateKey: PrivateKey): Promise<SealedReceipt> {
  const receipt: Receipt = { ...unsigned, moreTaskIds: unsigned.moreTaskIds ?? [], signature: new Uint8Array(0) }
  const encoded = Receipt.encode(receipt)
  const signing = uint8ArrayConcat([signingPrefix, encoded])
  const key = signingKey(privateKey)
  receipt.signature = new Uint8Array(key != null ? nodeSign(null, signing, key) : await privateKey.sign(signing))
  return { receipt, hash: createHash('sha256').update(encoded).digest('hex'), bytes: withSignature(encoded, receipt.signature) }
}

// The signature is field 10, between the fields it covers (1 to 9) and the
// task list (11). In a canonical encoding, fields come in number order, each
// once, and an empty one is left out: so the signed encoding is the unsigned
// one with field 10 put in before field 11, and the unsigned one is the
// signed one with field 10 cut out. Splicing costs a scan of a few field
// headers; encoding again costs a pass over every task id, ~4 µs each at the
// daemon's V8 settings (a 255-task receipt: ~1 ms).
const SIGNATURE_FIELD = 10

/** Where field 10 is, or would go, in a canonical receipt encoding: [start, end) of its bytes. */
function signatureSpan (bytes: Uint8Array): { start: number, end: number } {
  let pos = 0
  const varint = (): number => {
    let value = 0
    for (let shift = 0; ; shift += 7) {
      if (pos >= bytes.byteLength || shift > 63) {
        throw new ReceiptRejected('garbled', 'the receipt bytes end inside a field header')
      }
      const b = bytes[pos++]
      value += (b & 0x7f) * 2 ** shift
      if (b < 0x80) {
        return value
      }
    }
  }
  while (pos < bytes.byteLength) {
    const start = pos
    const tag = varint()
    const field = Math.floor(tag / 8)
    if (field > SIGNATURE_FIELD) {
      return { start, end: start }
    }
    switch (tag % 8) {
      case 0: varint(); break
      case 1: pos += 8; break
      case 2: { const length = varint(); pos += length; break }
      case 5: pos += 4; break
      default: throw new ReceiptRejected('garbled', `the receipt bytes hold a field of wire type ${tag % 8}`)
    }
    if (pos > bytes.byteLength) {
      throw new ReceiptRejected('garbled', 'the receipt bytes end inside a field')
    }
    if (field === SIGNATURE_FIELD) {
      return { start, end: pos }
    }
  }
  return { start: pos, end: pos }
}

/** The canonical encoding of a receipt from that of the same receipt without its signature. */
function withSignature (unsigned: Uint8Array, signature: Uint8Array): Uint8Array {
  if (signature.byteLength === 0) {
    return unsigned
  }
  const { start } = signatureSpan(unsigned)
  // the header: tag 10 with wire type 2 (0x52), then the length as a varint
  const header = [0x52]
  for (let n = signature.byteLength; ; n >>>= 7) {
    if (n < 0x80) {
      header.push(n)
      break
    }
    header.push((n & 0x7f) | 0x80)
  }
  return uint8ArrayConcat([unsigned.subarray(0, start), Uint8Array.from(header), signature, unsigned.subarray(start)])
}

/**
 * unsignedReceiptBytes() of the receipt that `bytes` encode, taken from the
 * bytes themselves. `bytes` must be a canonical encoding (decodeReceipt
 * checked it).
 */
export function unsignedFromCanonical (bytes: Uint8Array): Uint8Array {
  const { start, end } = signatureSpan(bytes)
  return start === end ? bytes : uint8ArrayConcat([bytes.subarray(0, start), bytes.subarray(end)])
}

/**
 * decodeReceipt() of transported or stored bytes, with what checking and
 * naming the receipt takes: its unsigned encoding, cut from the bytes (which
 * decodeReceipt found canonical) rather than encoded again, and its hash.
 */
export function readReceipt (bytes: Uint8Array): { receipt: Receipt, unsigned: Uint8Array, hash: string } {
  const receipt = decodeReceipt(bytes)
  const unsigned = unsignedFromCanonical(bytes)
  return { receipt, unsigned, hash: createHash('sha256').update(unsigned).digest('hex') }
}

/** Signs a receipt (all fields but `signature` set) with the issuer's key; returns it with the signature. */
export async function signReceipt (unsigned: UnsignedReceipt, privateKey: PrivateKey): Promise<Receipt> {
  return (await sealReceipt(unsigned, privateKey)).receipt
}

/** Whether the receipt's signature verifies against the issuer's PeerId key. */
export async function verifyReceiptSignature (receipt: Receipt): Promise<boolean> {
  return await verifyUnsignedBytes(receipt, unsignedReceiptBytes(receipt))
}

/** verifyReceiptSignature() for a receipt whose unsigned encoding the caller already has (and hashes too). */
export async function verifyUnsignedBytes (receipt: Receipt, unsigned: Uint8Array): Promise<boolean> {
  try {
    const publicKey = publicKeyOf(receipt.issuer, 'issuer')
    const bytes = uint8ArrayConcat([signingPrefix, unsigned])
    const key = checkingKey(receipt.issuer, publicKey)
    return key != null ? nodeVerify(null, bytes, key, receipt.signature) : await publicKey.verify(bytes, receipt.signature)
  } catch {
    return false
  }
}
