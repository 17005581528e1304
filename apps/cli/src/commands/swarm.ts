// `idlegrid swarm create|join|show|leave`: private swarm membership in the
// data directory (no daemon needed; a running one is asked where it helps).
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { DaemonRunningError, InvalidInputError } from '@idlegrid/interface'
import { UsageError } from '../errors.js'
import { EXIT } from '../exit-codes.js'
import { json as toJson } from '../output.js'
import type { Command, CommandContext } from '../command.js'
import type { SwarmInfo } from '../daemon/swarm.js'
import type { Swarm } from '@idlegrid/swarm'

const ACTIONS = ['create', 'join', 'show', 'leave'] as const
type Action = typeof ACTIONS[number]

/** Which flags each action takes, beyond the global ones. */
const ACTION_FLAGS: Record<Action, string[]> = { create: ['bootstrap'], join: [], show: ['invite'], leave: [] }

/**
 * Swarm membership errors are bad input (exit 2): joining twice, naming a
 * swarm this node is not in. The message is kept as it is.
 */
export function asBadInput (err: unknown): unknown {
  const name = (err as Error)?.name
  if (name === 'SwarmExistsError' || name === 'NotFoundError') {
    return new InvalidInputError((err as Error).message, { cause: err })
  }
  return err
}

/** Asks the daemon on this data dir, if one runs; undefined when none does. */
export async function askDaemon<T> (dataDir: string, method: string, path: string, signal: AbortSignal): Promise<T | undefined> {
  const { createControlClient } = await import('@idlegrid/control-api')
  try {
    return await createControlClient({ dataDir, timeoutMs: 5000 }).request<T>(method, path, { signal })
  } catch (err) {
    if ((err as Error).name === 'DaemonNotRunningError' || (err as Error).name === 'NotFoundError') {
      return undefined
    }
    throw err
  }
}

function describe (swarm: Swarm, self: string | undefined): string {
  const dht = `/idlegrid/${swarm.id}/kad/1.0.0`
  const lines = [
    `swarm ${swarm.name}`,
    `  id          ${swarm.id}`,
    `  dht         ${dht}`,
    `  creator     ${swarm.creator}${swarm.creator === self ? ' (this node)' : ''}`,
    `  bootstrap   ${swarm.bootstrap.length === 0 ? '(none: members start with --bootstrap ADDR)' : swarm.bootstrap.join('\n              ')}`,
    `  trusted     ${swarm.trusted.map(p => p === self ? `${p} (this node)` : p).join('\n              ')}`
  ]
  return lines.join('\n') + '\n'
}

function publicView (swarm: Swarm): Record<string, unknown> {
  return { name: swarm.name, id: swarm.id, dhtProtocol: `/idlegrid/${swarm.id}/kad/1.0.0`, creator: swarm.creator, bootstrap: swarm.bootstrap, trusted: swarm.trusted, createdAt: new Date(swarm.createdAt).toISOString() }
}

async function ownPeerId (dataDir: string): Promise<string | undefined> {
  const { readIdentity } = await import('../identity.js')
  return (await readIdentity(dataDir).catch(() => undefined))?.peerId
}

async function create (ctx: CommandContext, name: string): Promise<number> {
  const { dataDir, io, json, signal } = ctx
  const { createSwarm, swarmBootstrap, validateSwarmName } = await import('@idlegrid/swarm')
  const { loadOrCreateIdentity } = await import('../identity.js')
  validateSwarmName(name)
  let bootstrap = (ctx.values.bootstrap as string[] | undefined) ?? []
  // bad addresses fail before an identity key is created (the PeerId is only appended)
  swarmBootstrap(bootstrap, 'self')
  let note: string | undefined
  if (bootstrap.length === 0) {
    // A daemon on this data dir already listens somewhere members can reach.
    const status = await askDaemon<{ addresses: string[] }>(dataDir, 'GET', '/v1/status', signal).catch(() => undefined)
    if (status != null && status.addresses.length > 0) {
      bootstrap = status.addresses
      note = 'bootstrap taken from the daemon running on this data dir; they hold only if it listens on the same port after its restart with --swarm (set "listen" in config.json)'
    } else {
      note = 'no bootstrap address: members must start with --bootstrap <address of a member>; give --bootstrap ADDR to put one in the invite'
    }
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const identity = await loadOrCreateIdentity(dataDir)
  const { swarm, invite } = await createSwarm(dataDir, { name, creator: identity.peerId, bootstrap }).catch(err => { throw asBadInput(err) })
  if (json) {
    io.stdout(toJson({ ...publicView(swarm), keyFile: join(dataDir, 'swarms', name, 'swarm.key'), invite }))
    return EXIT.OK
  }
  io.stdout(`created swarm ${name}; its key is ${join(dataDir, 'swarms', name, 'swarm.key')} (mode 0600)\n`)
  io.stdout(describe(swarm, identity.peerId))
  if (note != null) io.stdout(`note: ${note}\n`)
  io.stdout(`\ninvite (it holds the swarm key: send it only to members, over a channel you trust):\n${invite}\n\n`)
  io.stdout(`on each member: idlegrid swarm join <invite>; then: idlegrid daemon --swarm ${name}\n`)
  return EXIT.OK
}

async function joinAction (ctx: CommandContext, token: string): Promise<number> {
  const { dataDir, io, json } = ctx
  const { joinSwarm } = await import('@idlegrid/swarm')
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const swarm = await joinSwarm(dataDir, token).catch(err => { throw asBadInput(err) })
  if (json) {
    io.stdout(toJson(publicView(swarm)))
    return EXIT.OK
  }
  io.stdout(`joined swarm ${swarm.name}\n`)
  io.stdout(describe(swarm, await ownPeerId(dataDir)))
  io.stdout(`start the node in it with: idlegrid daemon --swarm ${swarm.name}\n`)
  return EXIT.OK
}

async function show (ctx: CommandContext, name: string | undefined): Promise<number> {
  const { dataDir, io, json } = ctx
  const { inviteFor, listSwarms, loadSwarm } = await import('@idlegrid/swarm')
  const swarms = name != null ? [await loadSwarm(dataDir, name).catch(err => { throw asBadInput(err) })] : await listSwarms(dataDir)
  const withInvite = ctx.values.invite === true
  if (json) {
    io.stdout(toJson(swarms.map(s => ({ ...publicView(s), ...(withInvite ? { invite: inviteFor(s) } : {}) }))))
    return EXIT.OK
  }
  if (swarms.length === 0) {
    io.stdout('this node is in no private swarm; create one with `idlegrid swarm create NAME` or join one with `idlegrid swarm join <invite>`\n')
    return EXIT.OK
  }
  const self = await ownPeerId(dataDir)
  io.stdout(swarms.map(s => describe(s, self) + (withInvite ? `  invite      ${inviteFor(s)}\n` : '')).join('\n'))
  return EXIT.OK
}

async function leave (ctx: CommandContext, name: string): Promise<number> {
  const { dataDir, io, json, signal } = ctx
  const { leaveSwarm, loadSwarm } = await import('@idlegrid/swarm')
  await loadSwarm(dataDir, name).catch(err => {
    // a damaged swarm can still be left; only a missing one cannot
    if ((err as Error).name === 'NotFoundError') throw asBadInput(err)
  })
  const running = await askDaemon<SwarmInfo>(dataDir, 'GET', '/v1/swarm', signal).catch(() => undefined)
  if (running?.name === name) {
    throw new DaemonRunningError(`the daemon on ${dataDir} runs in swarm ${name}; stop it first, then leave (nothing was changed)`)
  }
  await leaveSwarm(dataDir, name).catch(err => { throw asBadInput(err) })
  io.stdout(json ? toJson({ left: name }) : `left swarm ${name}; its key and trust list were deleted from this node\n`)
  return EXIT.OK
}

export const swarmCommand: Command = {
  name: 'swarm',
  summary: 'create, join, show or leave a private swarm (no daemon needed)',
  usage: 'swarm create NAME [--bootstrap ADDR]...\n       idlegrid swarm join INVITE\n       idlegrid swarm show [NAME] [--invite]\n       idlegrid swarm leave NAME',
  options: {
    bootstrap: { type: 'string', multiple: true, valueName: 'ADDR', description: 'create: where members join; an address without /p2p/ is this node\'s (default: the running daemon\'s addresses, if any)' },
    invite: { type: 'boolean', description: 'show: also print the invite, which holds the swarm key' }
  },
  positionals: { min: 1, max: 2 },
  details: `A private swarm is a pool of nodes sharing one key: nodes without it
cannot connect. create writes <data-dir>/swarms/NAME/ (key 0600, creator as the
first trusted signer) and prints an invite; join stores the swarm an invite
describes; neither overwrites a swarm already joined. Then run
\`idlegrid daemon --swarm NAME\`. See docs/private-swarms.md.`,

  async run (ctx) {
    const [action, arg] = ctx.positionals
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(`unknown swarm action '${action}'; use create, join, show or leave (see \`idlegrid swarm --help\`)`)
    }
    for (const flag of ['bootstrap', 'invite']) {
      if (ctx.values[flag] !== undefined && !ACTION_FLAGS[action as Action].includes(flag)) {
        throw new UsageError(`--${flag} does not apply to \`idlegrid swarm ${action}\`; see \`idlegrid swarm --help\``)
      }
    }
    if (action !== 'show' && arg == null) {
      throw new UsageError(`\`idlegrid swarm ${action}\` needs ${action === 'join' ? 'the invite' : 'the swarm\'s name'}; see \`idlegrid swarm --help\``)
    }
    switch (action as Action) {
      case 'create': return create(ctx, arg)
      case 'join': return joinAction(ctx, arg)
      case 'show': return show(ctx, arg)
      case 'leave': return leave(ctx, arg)
    }
  }
}
