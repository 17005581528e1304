// `idlegrid trust add|remove|list`: the signers whose bundles this node runs
// inside a private swarm. A daemon running in that swarm uses the new list at once.
import { UsageError } from '../errors.js'
import { EXIT } from '../exit-codes.js'
import { json as toJson } from '../output.js'
import { askDaemon, asBadInput } from './swarm.js'
import type { Command, CommandContext } from '../command.js'
import type { SwarmInfo } from '../daemon/swarm.js'

const ACTIONS = ['add', 'remove', 'list'] as const

/**
 * The swarm a trust command is about: --swarm, else the daemon's configured
 * swarm (IDLEGRID_SWARM or config.json), else the only swarm the node is in.
 */
export async function chooseSwarm (ctx: CommandContext): Promise<string> {
  const { listSwarms, validateSwarmName } = await import('@idlegrid/swarm')
  const flag = ctx.values.swarm as string | undefined
  if (flag != null) {
    return validateSwarmName(flag)
  }
  const { loadConfig } = await import('../config.js')
  const { config } = await loadConfig({ dataDir: ctx.dataDir, env: ctx.io.env })
  if (config.swarm != null) {
    return config.swarm
  }
  const names = (await listSwarms(ctx.dataDir)).map(s => s.name)
  if (names.length === 1) {
    return names[0]
  }
  if (names.length === 0) {
    throw new UsageError('this node is in no private swarm, so it has no trust list (the open network runs any signer\'s bundles, sandboxed); join one with `idlegrid swarm join <invite>`')
  }
  throw new UsageError(`this node is in ${names.length} swarms (${names.join(', ')}); say which with --swarm NAME`)
}

export const trustCommand: Command = {
  name: 'trust',
  summary: 'add, remove or list the signers whose bundles this node runs in a swarm',
  usage: 'trust add PEER_ID [--swarm NAME]\n       idlegrid trust remove PEER_ID [--swarm NAME]\n       idlegrid trust list [--swarm NAME]',
  options: {
    swarm: { type: 'string', valueName: 'NAME', description: 'the swarm (default: the daemon\'s configured swarm, else the only one this node is in)' }
  },
  positionals: { min: 1, max: 2 },
  details: `Inside a private swarm the daemon runs only bundles signed by peers on this
list (the swarm's creator is on it from the start), unless it was started with
--run-untrusted. The last signer cannot be removed. A daemon running in the
swarm uses the changed list at once; others read it when they start.`,

  async run (ctx) {
    const { io, json, dataDir, signal } = ctx
    const [action, peerId] = ctx.positionals
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(`unknown trust action '${action}'; use add, remove or list (see \`idlegrid trust --help\`)`)
    }
    if (action === 'list' ? peerId != null : peerId == null) {
      throw new UsageError(action === 'list'
        ? `unexpected argument '${peerId}' for \`idlegrid trust list\``
        : `\`idlegrid trust ${action}\` needs the signer's PeerId (\`idlegrid id\` prints it on that machine)`)
    }
    const name = await chooseSwarm(ctx)
    const { loadSwarm, trustAdd, trustRemove } = await import('@idlegrid/swarm')
    if (action === 'list') {
      const swarm = await loadSwarm(dataDir, name).catch(err => { throw asBadInput(err) })
      io.stdout(json ? toJson({ swarm: name, trusted: swarm.trusted }) : `trusted signers of swarm ${name}:\n${swarm.trusted.map(p => `  ${p}\n`).join('')}`)
      return EXIT.OK
    }

    const trusted = await (action === 'add' ? trustAdd(dataDir, name, peerId) : trustRemove(dataDir, name, peerId)).catch(err => { throw asBadInput(err) })
    // A running daemon in this swarm re-reads the list within seconds anyway; asking makes it immediate.
    let daemon: 'reloaded' | 'none' | 'failed' = 'none'
    try {
      const info = await askDaemon<SwarmInfo>(dataDir, 'POST', '/v1/swarm/trust/reload', signal)
      daemon = info?.name === name ? 'reloaded' : 'none'
    } catch {
      daemon = 'failed'
    }
    if (json) {
      io.stdout(toJson({ swarm: name, trusted, daemonReloaded: daemon === 'reloaded' }))
      return EXIT.OK
    }
    io.stdout(`${action === 'add' ? 'trusted' : 'no longer trusted'}: ${peerId} in swarm ${name} (${trusted.length} trusted signer${trusted.length === 1 ? '' : 's'})\n`)
    if (daemon === 'reloaded') io.stdout('the running daemon uses the new list now\n')
    if (daemon === 'failed') io.stdout('the running daemon did not answer; it picks up the new list within a few seconds\n')
    return EXIT.OK
  }
}
