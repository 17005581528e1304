// `idlegrid status`: whether the daemon runs, its PeerId and addresses.
import { createControlClient } from '@idlegrid/control-api'
import { EXIT } from '../exit-codes.js'
import { duration, fields, json as toJson, plural } from '../output.js'
import type { Command } from '../command.js'

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the running daemon: PeerId, addresses, peers, uptime',
  usage: 'status',
  options: {},
  details: 'Exits 3 when no daemon runs for the data directory.',

  async run ({ dataDir, json, io, signal }) {
    const status = await createControlClient({ dataDir }).status({ signal })
    if (json) {
      io.stdout(toJson(status))
      return EXIT.OK
    }
    io.stdout(fields([
      ['daemon', `running (pid ${status.pid}, up ${duration(status.uptimeMs)}, version ${status.version})`],
      ['peer id', status.peerId],
      ['listening', status.addresses.join('\n' + ' '.repeat(11)) || '(no addresses)'],
      ['peers', `${plural(status.peerCount, 'peer')} connected`],
      ['data dir', status.dataDir]
    ]))
    return EXIT.OK
  }
}
