// `idlegrid id`: the node's PeerId, read from the key file (no daemon needed).
import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { EXIT } from '../exit-codes.js'
import { json as toJson } from '../output.js'
import type { Command } from '../command.js'

export const idCommand: Command = {
  name: 'id',
  summary: 'print this node\'s PeerId (from the identity key; no daemon needed)',
  usage: 'id [--create]',
  options: {
    create: { type: 'boolean', description: 'create the identity key if there is none yet' }
  },

  async run ({ values, dataDir, json, io }) {
    // Loaded here, not at the top, so other commands start faster.
    const { IDENTITY_FILE, loadOrCreateIdentity, readIdentity } = await import('../identity.js')
    let identity = await readIdentity(dataDir)
    if (identity == null) {
      if (values.create !== true) {
        io.stderr(`idlegrid: no identity key at ${join(dataDir, IDENTITY_FILE)} yet; it is created when \`idlegrid daemon --data-dir ${dataDir}\` first starts, or now with \`idlegrid id --create --data-dir ${dataDir}\`\n`)
        return EXIT.FAILURE
      }
      await mkdir(dataDir, { recursive: true, mode: 0o700 })
      identity = await loadOrCreateIdentity(dataDir)
    }
    io.stdout(json
      ? toJson({ peerId: identity.peerId, publicKey: Buffer.from(identity.privateKey.publicKey.raw).toString('base64'), keyFile: identity.path, created: identity.created })
      : `${identity.peerId}\n`)
    return EXIT.OK
  }
}
