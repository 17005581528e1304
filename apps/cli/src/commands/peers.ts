// `idlegrid peers`: the peers the daemon is connected to.
import { createControlClient } from '@idlegrid/control-api'
import { EXIT } from '../exit-codes.js'
import { json as toJson, plural, table } from '../output.js'
import type { Command } from '../command.js'

export const peersCommand: Command = {
  name: 'peers',
  summary: 'list connected peers',
  usage: 'peers',
  options: {},

  async run ({ dataDir, json, io, signal }) {
    const peers = await createControlClient({ dataDir }).peers({ signal })
    if (json) {
      io.stdout(toJson(peers))
      return EXIT.OK
    }
    if (peers.length === 0) {
      io.stdout('no peers connected (start another daemon with --bootstrap pointing at this one, or use --mdns)\n')
      return EXIT.OK
    }
    io.stdout(`${plural(peers.length, 'peer')} connected\n`)
    io.stdout(table(['PEER ID', 'DIRECTION', 'ADDRESS'], peers.map(p => [p.peerId, p.direction ?? '-', p.addresses[0] ?? '-'])))
    return EXIT.OK
  }
}
