// Private swarm keys: parsing libp2p's PSK file format and deriving the swarm
// id that keeps a private swarm's DHT apart from every other DHT.
import { createHash } from 'node:crypto'
import { ConfigError } from '@idlegrid/interface'
import { DHT_PROTOCOL } from './constants.js'

const PSK_TAG = '/key/swarm/psk/1.0.0/'
const PSK_CODEC = '/base16/'

/**
 * Checks a swarm key in libp2p's PSK file format
 * (`/key/swarm/psk/1.0.0/\n/base16/\n<64 hex chars>`) and returns the 32
 * key bytes.
 *
 * @throws ConfigError saying which line is wrong
 */
export function parseSwarmKey (swarmKey: Uint8Array): Uint8Array {
  const lines = new TextDecoder().decode(swarmKey).split(/\r?\n/).map(line => line.trim())
  if (lines[0] !== PSK_TAG) {
    throw new ConfigError(`swarm key must start with the line "${PSK_TAG}" (libp2p PSK file format); create one with \`idlegrid swarm create\``)
  }
  if (lines[1] !== PSK_CODEC) {
    throw new ConfigError(`swarm key's second line must be "${PSK_CODEC}", got "${lines[1] ?? ''}"`)
  }
  const hex = lines[2] ?? ''
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new ConfigError('swarm key\'s third line must be 64 hexadecimal characters (32 bytes)')
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/**
 * A short public name of the swarm: sha256 of a domain tag and the key's
 * lowercase hex, first 8 bytes in hex. It reveals nothing of the key. Must
 * stay equal to `swarmId()` of @idlegrid/swarm, which `swarm show` prints
 * (test/integration checks they agree).
 */
export function swarmIdFromKey (swarmKey: Uint8Array): string {
  const hex = Buffer.from(parseSwarmKey(swarmKey)).toString('hex')
  return createHash('sha256').update('idlegrid:swarm:').update(hex).digest('hex').slice(0, 16)
}

/** The DHT protocol id: the open network's, or the private swarm's own. */
export function dhtProtocol (swarmKey?: Uint8Array): string {
  if (swarmKey == null) {
    return DHT_PROTOCOL
  }
  return `/idlegrid/${swarmIdFromKey(swarmKey)}/kad/1.0.0`
}
