// Swarm membership on disk: one folder per swarm under <dataDir>/swarms/,
// holding the key (0600), the swarm's settings and its trust list of signers.
// Every write is atomic and nothing existing is ever overwritten by mistake.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError, InvalidInputError, NotFoundError } from '@idlegrid/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeInvite, encodeInvite, validateSwarmName } from './invite.js'
import { createSwarmKey, parseSwarmKey, swarmId } from './key.js'

export interface Swarm {
  name: string
  /** Public id derived from the key. */
  id: string
  key: Uint8Array
  bootstrap: string[]
  creator: string
  /** PeerIds whose bundles members run by default. */
  trusted: string[]
  createdAt: number
}

interface SwarmFile {
  name: string
  id: string
  bootstrap: string[]
  creator: string
  createdAt: number
}

export class SwarmExistsError extends ConfigError {
  static override name = 'SwarmExistsError'
}

function swarmDir (dataDir: string, name: string): string {
  return join(dataDir, 'swarms', validateSwarmName(name))
}

async function writeAtomic (path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(tmp, data, { mode, flag: 'wx' })
  await rename(tmp, path)
}

async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

function checkPeerId (peerId: string): string {
  try {
    return peerIdFromString(peerId).toString()
  } catch {
    throw new InvalidInputError(`"${peerId}" is not a PeerId: use the id that \`idlegrid id\` prints on the signer's machine`)
  }
}

async function writeNew (dataDir: string, swarm: Omit<Swarm, 'id' | 'trusted'>): Promise<Swarm> {
  const dir = swarmDir(dataDir, swarm.name)
  if (await exists(dir)) {
    const current = await loadSwarm(dataDir, swarm.name).catch(() => undefined)
    const same = current?.id === swarmId(swarm.key) ? ' (the same swarm)' : ' (a different swarm of that name)'
    throw new SwarmExistsError(`this node is already a member of swarm "${swarm.name}"${same}; nothing was changed. Run \`idlegrid swarm leave ${swarm.name}\` first to replace it`)
  }
  const id = swarmId(swarm.key)
  // Build the folder under a temporary name and rename it into place, so a
  // crash never leaves a swarm without its key or trust list.
  const staging = join(dataDir, 'swarms', `.${swarm.name}.${randomBytes(4).toString('hex')}`)
  await mkdir(staging, { recursive: true, mode: 0o700 })
  const file: SwarmFile = { name: swarm.name, id, bootstrap: swarm.bootstrap, creator: swarm.creator, createdAt: swarm.createdAt }
  await writeFile(join(staging, 'swarm.key'), swarm.key, { mode: 0o600 })
  await writeFile(join(staging, 'swarm.json'), JSON.stringify(file, null, 2) + '\n', { mode: 0o600 })
  await writeFile(join(staging, 'trust.json'), JSON.stringify({ trusted: [swarm.creator] }, null, 2) + '\n', { mode: 0o600 })
  await rename(staging, dir)
  return { ...file, key: swarm.key, trusted: [swarm.creator] }
}

export interface CreateSwarmInit {
  name: string
  /** PeerId of this node, the first trusted signer. */
  creator: string
  /** Where members join; an address without /p2p/<PeerId> is taken to be the creator's own. @default [] */
  bootstrap?: string[]
}

/**
 * Checks bootstrap addresses and gives each a /p2p/ part: the creator
 * usually lists its own address, and members can only authenticate a peer
 * they can name.
 */
export function swarmBootstrap (list: string[], creator: string): string[] {
  const out: string[] = []
  for (const addr of list) {
    let ma
    try {
      ma = multiaddr(addr.trim())
    } catch {
      throw new InvalidInputError(`bootstrap address "${addr}" is not a multiaddr; expected e.g. /ip4/192.0.2.7/tcp/4101`)
    }
    const full = ma.getComponents().some(c => c.name === 'p2p') ? ma.toString() : `${ma.toString()}/p2p/${creator}`
    if (!out.includes(full)) out.push(full)
  }
  return out
}

/** Creates a new swarm with a fresh key and returns it with its invite. */
export async function createSwarm (dataDir: string, init: CreateSwarmInit): Promise<{ swarm: Swarm, invite: string }> {
  const creator = checkPeerId(init.creator)
  const swarm = await writeNew(dataDir, {
    name: validateSwarmName(init.name),
    key: createSwarmKey(),
    bootstrap: swarmBootstrap(init.bootstrap ?? [], creator),
    creator,
    createdAt: Date.now()
  })
  return { swarm, invite: inviteFor(swarm) }
}

/** Joins the swarm an invite describes; refuses a swarm of that name already joined. */
export async function joinSwarm (dataDir: string, token: string): Promise<Swarm> {
  const invite = decodeInvite(token)
  return writeNew(dataDir, { ...invite, createdAt: Date.now() })
}

export function inviteFor (swarm: Swarm): string {
  return encodeInvite({ name: swarm.name, key: swarm.key, bootstrap: swarm.bootstrap, creator: swarm.creator })
}

export async function loadSwarm (dataDir: string, name: string): Promise<Swarm> {
  const dir = swarmDir(dataDir, name)
  if (!(await exists(dir))) {
    throw new NotFoundError(`this node is not in a swarm named "${name}"; see \`idlegrid swarm show\` for the swarms it is in, or join one with \`idlegrid swarm join <invite>\``)
  }
  const keyPath = join(dir, 'swarm.key')
  const info = await stat(keyPath).catch(() => {
    throw new ConfigError(`swarm "${name}" has no key file at ${keyPath}; leave and join the swarm again`)
  })
  if ((info.mode & 0o077) !== 0) {
    throw new ConfigError(`${keyPath} can be read by other users (mode ${(info.mode & 0o777).toString(8)}); the key is the swarm's secret: run \`chmod 600 ${keyPath}\``)
  }
  const key = await readFile(keyPath)
  try {
    parseSwarmKey(key, keyPath)
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const file = await readJson(join(dir, 'swarm.json'), name) as SwarmFile
  if (typeof file?.name !== 'string' || !Array.isArray(file.bootstrap) || typeof file.creator !== 'string') {
    throw new ConfigError(`${join(dir, 'swarm.json')} is damaged: it needs name, bootstrap and creator; leave and join swarm "${name}" again`)
  }
  const trust = await readJson(join(dir, 'trust.json'), name) as { trusted?: unknown }
  if (!Array.isArray(trust?.trusted) || trust.trusted.some(p => typeof p !== 'string')) {
    throw new ConfigError(`${join(dir, 'trust.json')} is damaged: it must hold {"trusted": ["<PeerId>", ...]}; fix it or re-add signers with \`idlegrid trust add\``)
  }
  return { ...file, id: swarmId(key), key: new Uint8Array(key), trusted: trust.trusted as string[] }
}

async function readJson (path: string, name: string): Promise<any> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read ${path} of swarm "${name}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); leave and join the swarm again`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new ConfigError(`${path} of swarm "${name}" is not valid JSON; fix it, or leave and join the swarm again`)
  }
}

export async function listSwarms (dataDir: string): Promise<Swarm[]> {
  const names = await readdir(join(dataDir, 'swarms')).catch(() => [] as string[])
  const swarms: Swarm[] = []
  for (const name of names.filter((n) => !n.startsWith('.')).sort()) {
    swarms.push(await loadSwarm(dataDir, name))
  }
  return swarms
}

export async function leaveSwarm (dataDir: string, name: string): Promise<void> {
  await loadSwarm(dataDir, name).catch((err: Error) => {
    if (err.name === 'NotFoundError') throw err
  })
  await rm(swarmDir(dataDir, name), { recursive: true, force: true })
}

async function writeTrust (dataDir: string, name: string, trusted: string[]): Promise<void> {
  await writeAtomic(join(swarmDir(dataDir, name), 'trust.json'), JSON.stringify({ trusted }, null, 2) + '\n', 0o600)
}

/** Adds a signer; returns the new list. Adding one already there changes nothing. */
export async function trustAdd (dataDir: string, name: string, peerId: string): Promise<string[]> {
  const swarm = await loadSwarm(dataDir, name)
  const id = checkPeerId(peerId)
  if (swarm.trusted.includes(id)) return swarm.trusted
  const trusted = [...swarm.trusted, id]
  await writeTrust(dataDir, name, trusted)
  return trusted
}

/** Removes a signer; refuses to remove the last one, which would stop all work in the swarm. */
export async function trustRemove (dataDir: string, name: string, peerId: string): Promise<string[]> {
  const swarm = await loadSwarm(dataDir, name)
  const id = checkPeerId(peerId)
  if (!swarm.trusted.includes(id)) {
    throw new NotFoundError(`${id} is not on the trust list of swarm "${name}"`)
  }
  if (swarm.trusted.length === 1) {
    throw new InvalidInputError(`${id} is the last trusted signer of swarm "${name}"; removing it would make every member refuse all work. Add another signer first with \`idlegrid trust add <peer-id>\``)
  }
  const trusted = swarm.trusted.filter((p) => p !== id)
  await writeTrust(dataDir, name, trusted)
  return trusted
}
