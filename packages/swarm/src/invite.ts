// Swarm invites: one copy-pasteable token with the swarm's name, key,
// bootstrap addresses and creator, plus a checksum that catches typos.
import { createHash } from 'node:crypto'
import { InvalidInputError } from '@idlegrid/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { parseSwarmKey, swarmKeyFromHex } from './key.js'

const PREFIX = 'idlegrid-invite1'
const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/

export interface Invite {
  name: string
  /** The PSK file bytes. */
  key: Uint8Array
  bootstrap: string[]
  /** PeerId of the creator, the first trusted signer. */
  creator: string
}

export function validateSwarmName (name: string): string {
  if (!NAME.test(name)) {
    throw new InvalidInputError(`swarm name "${name}" is not valid: use 1-32 lowercase letters, digits, '-' or '_', starting with a letter or digit`)
  }
  return name
}

function checksum (payload: string): string {
  return createHash('sha256').update(payload).digest('hex').slice(0, 8)
}

export function encodeInvite (invite: Invite): string {
  validateSwarmName(invite.name)
  const body = { n: invite.name, k: parseSwarmKey(invite.key), b: invite.bootstrap, c: invite.creator }
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url')
  return `${PREFIX}.${payload}.${checksum(payload)}`
}

export function decodeInvite (token: string): Invite {
  const parts = token.trim().split('.')
  if (parts.length !== 3 || parts[0] !== PREFIX) {
    throw new InvalidInputError(`not an IdleGrid invite: it should look like "${PREFIX}.<data>.<checksum>"; copy the whole line that \`idlegrid swarm create\` printed`)
  }
  const [, payload, sum] = parts
  if (checksum(payload) !== sum) {
    throw new InvalidInputError('the invite\'s checksum does not match: it was mistyped or cut short; copy it again from `idlegrid swarm show --invite`')
  }
  let body: unknown
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidInputError('the invite\'s data is unreadable although its checksum matches: it was made by an incompatible version')
  }
  const b = body as { n?: unknown, k?: unknown, b?: unknown, c?: unknown }
  if (typeof b.n !== 'string' || typeof b.k !== 'string' || !Array.isArray(b.b) || typeof b.c !== 'string') {
    throw new InvalidInputError('the invite is missing its name, key, bootstrap list or creator')
  }
  const name = validateSwarmName(b.n)
  const key = swarmKeyFromHex(b.k)
  const bootstrap = b.b.map((addr) => {
    if (typeof addr !== 'string') throw new InvalidInputError('the invite holds a bootstrap address that is not text')
    try {
      multiaddr(addr)
    } catch {
      throw new InvalidInputError(`the invite holds a bootstrap address that is not a multiaddr: ${addr}`)
    }
    return addr
  })
  try {
    peerIdFromString(b.c)
  } catch {
    throw new InvalidInputError(`the invite's creator is not a PeerId: ${b.c}`)
  }
  return { name, key, bootstrap, creator: b.c }
}
