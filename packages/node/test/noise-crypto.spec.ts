// nodeNoiseCrypto against noise's pure-JS implementation: the same ciphertexts,
// hashes and shared keys, so peers using either interoperate.
import { pureJsCrypto } from '@chainsafe/libp2p-noise'
import { describe, expect, it } from 'vitest'
import { nodeNoiseCrypto } from '../src/noise-crypto.js'

const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)

describe('nodeNoiseCrypto', () => {
  const k = bytes(32, 7)
  const nonce = bytes(12, 3)
  const ad = bytes(20, 5)

  it('encrypts and decrypts as the pure-JS ChaCha20-Poly1305 does, small and large messages', () => {
    for (const size of [0, 1, 100, 1199, 1200, 70_000]) {
      const plain = bytes(size)
      const ours = nodeNoiseCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k)
      const theirs = pureJsCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k)
      expect(Buffer.from(ours.subarray())).toEqual(Buffer.from(theirs.subarray()))
      expect(Buffer.from(nodeNoiseCrypto.chaCha20Poly1305Decrypt(theirs, nonce, ad, k).subarray())).toEqual(Buffer.from(plain))
      expect(Buffer.from(pureJsCrypto.chaCha20Poly1305Decrypt(ours, nonce, ad, k).subarray())).toEqual(Buffer.from(plain))
    }
  })

  it('rejects a ciphertext whose tag does not match', () => {
    const sealed = Uint8Array.from(nodeNoiseCrypto.chaCha20Poly1305Encrypt(bytes(64), nonce, ad, k).subarray())
    sealed[3] ^= 1
    expect(() => nodeNoiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k)).toThrow()
  })

  it('hashes as SHA-256 does', () => {
    const data = bytes(1000)
    expect(Buffer.from(nodeNoiseCrypto.hashSHA256(data))).toEqual(Buffer.from(pureJsCrypto.hashSHA256(data)))
  })

  it('agrees on X25519 shared keys with the pure-JS implementation', () => {
    const a = nodeNoiseCrypto.generateX25519KeyPair()
    const b = pureJsCrypto.generateX25519KeyPair()
    expect(a.publicKey.byteLength).toBe(32)
    expect(a.privateKey.byteLength).toBe(32)
    const ours = nodeNoiseCrypto.generateX25519SharedKey(a.privateKey, b.publicKey)
    const theirs = pureJsCrypto.generateX25519SharedKey(b.privateKey, a.publicKey)
    expect(Buffer.from(ours)).toEqual(Buffer.from(theirs))
    const seed = bytes(32, 9)
    expect(Buffer.from(nodeNoiseCrypto.generateX25519KeyPairFromSeed(seed).publicKey)).toEqual(Buffer.from(pureJsCrypto.generateX25519KeyPairFromSeed(seed).publicKey))
  })
})
