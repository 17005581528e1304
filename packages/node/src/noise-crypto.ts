// The noise ciphers without WebAssembly: noise's own choice for Node (its
// WebAssembly ChaCha20-Poly1305 for small messages, node:crypto for large ones)
// keeps several MiB of WebAssembly resident in an idle daemon.
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto'
import { pureJsCrypto } from '@chainsafe/libp2p-noise'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'

type Bytes = Parameters<ICryptoInterface['hashSHA256']>[0]

const CHACHA_POLY1305 = 'chacha20-poly1305'
const TAG_LENGTH = 16
// DER prefixes of X25519 keys as node:crypto imports and exports them
const PKCS8_PREFIX = Buffer.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])
const X25519_PREFIX = Buffer.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])

/** One contiguous view of bytes that may arrive as a list of chunks. */
function flat (data: Bytes): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

/**
 * Every message is ciphered by node:crypto. Small messages (an idle node's
 * pings and DHT records, most work protocol messages) were ciphered by noise's
 * pure-JS implementation for a while, which left the malloc heap about 2 MiB
 * smaller in one sample, but in an idle daemon, whose code runs unoptimised
 * until it first works, that JS was a good part of its CPU: with node:crypto
 * for all, three runs of bench/footprint.ts gave 4-6 ticks a minute and 1.53x
 * bare memory, against 6-7 ticks (docs/footprint.md). WebAssembly costs more
 * memory than both. Hashing and X25519 use node:crypto, HKDF noise's pure-JS code.
 */
export const nodeNoiseCrypto: ICryptoInterface = {
  ...pureJsCrypto,
  hashSHA256 (data) {
    const hash = createHash('sha256')
    if (data instanceof Uint8Array) {
      return hash.update(data).digest()
    }
    for (const buf of data) {
      hash.update(buf)
    }
    return hash.digest()
  },
  chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
    const text = flat(plaintext)
    const cipher = createCipheriv(CHACHA_POLY1305, k, nonce, { authTagLength: TAG_LENGTH })
    cipher.setAAD(ad, { plaintextLength: text.byteLength })
    const updated = cipher.update(text)
    const final = cipher.final()
    const tag = cipher.getAuthTag()
    return Buffer.concat([updated, final, tag], updated.byteLength + final.byteLength + tag.byteLength)
  },
  chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k) {
    const all = flat(ciphertext)
    const text = all.subarray(0, all.byteLength - TAG_LENGTH)
    const decipher = createDecipheriv(CHACHA_POLY1305, k, nonce, { authTagLength: TAG_LENGTH })
    decipher.setAAD(ad, { plaintextLength: text.byteLength })
    decipher.setAuthTag(all.subarray(all.byteLength - TAG_LENGTH))
    const output = decipher.update(text)
    const final = decipher.final()
    return final.byteLength > 0 ? Buffer.concat([output, final], output.byteLength + final.byteLength) : output
  },
  generateX25519KeyPair () {
    const { publicKey, privateKey } = generateKeyPairSync('x25519', {
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' }
    })
    return { publicKey: publicKey.subarray(X25519_PREFIX.length), privateKey: privateKey.subarray(PKCS8_PREFIX.length) }
  },
  generateX25519KeyPairFromSeed (seed) {
    const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), type: 'pkcs8', format: 'der' })
    const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(X25519_PREFIX.length)
    return { publicKey, privateKey: seed }
  },
  generateX25519SharedKey (privateKey, publicKey) {
    return diffieHellman({
      publicKey: createPublicKey({ key: Buffer.concat([X25519_PREFIX, flat(publicKey)]), type: 'spki', format: 'der' }),
      privateKey: createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, flat(privateKey)]), type: 'pkcs8', format: 'der' })
    })
  }
}
