// The swarm key: libp2p's pre-shared key file format, and the public swarm id
// derived from it. The key is the membership secret; the id is safe to show.
import { createHash, randomBytes } from 'node:crypto'
import { InvalidInputError } from '@idlegrid/interface'

const HEADER = '/key/swarm/psk/1.0.0/\n/base16/\n'
const KEY_HEX = /^[0-9a-f]{64}$/

/** A new random swarm key in libp2p's PSK file format (95 bytes). */
export function createSwarmKey (): Uint8Array {
  return new TextEncoder().encode(HEADER + randomBytes(32).toString('hex'))
}

/** The PSK file for a 32-byte secret given as 64 hex characters. */
export function swarmKeyFromHex (hex: string): Uint8Array {
  if (!KEY_HEX.test(hex)) {
    throw new InvalidInputError('a swarm key is 64 hexadecimal characters (32 bytes)')
  }
  return new TextEncoder().encode(HEADER + hex)
}

/** Checks the PSK file format and returns the secret as hex; throws with what is wrong. */
export function parseSwarmKey (bytes: Uint8Array, where = 'swarm key'): string {
  const text = new TextDecoder().decode(bytes).replace(/\r\n/g, '\n').trimEnd()
  if (!text.startsWith(HEADER)) {
    throw new InvalidInputError(`${where} is not a libp2p swarm key: it must start with "/key/swarm/psk/1.0.0/" and "/base16/" lines`)
  }
  const hex = text.slice(HEADER.length)
  if (!KEY_HEX.test(hex)) {
    throw new InvalidInputError(`${where} is damaged: after the header it must hold 64 lowercase hexadecimal characters, found ${hex.length} characters`)
  }
  return hex
}

/**
 * The public name of a swarm: a hash of its secret, so it can appear in
 * protocol ids and logs without revealing the key.
 */
export function swarmId (key: Uint8Array): string {
  const hex = parseSwarmKey(key)
  return createHash('sha256').update('idlegrid:swarm:').update(hex).digest('hex').slice(0, 16)
}
