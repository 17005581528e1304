// `idlegrid capacity`: what this node advertises and the owner limits behind it.
import { createControlClient } from '@idlegrid/control-api'
import { EXIT } from '../exit-codes.js'
import { fields, json as toJson, megabytes, plural } from '../output.js'
import type { Command } from '../command.js'

export const capacityCommand: Command = {
  name: 'capacity',
  summary: 'show what this node offers and the owner limits behind it',
  usage: 'capacity',
  options: {},
  details: 'Limits come from --max-cores, --max-memory and --share-gpu (docs/config.md).',

  async run ({ dataDir, json, io, signal }) {
    const c = await createControlClient({ dataDir }).capacity({ signal })
    if (json) {
      io.stdout(toJson(c))
      return EXIT.OK
    }
    const gpus = c.machine.gpus.length === 0 ? 'no GPU' : c.machine.gpus.map(g => `${g.model} (${megabytes(g.memoryMb)})`).join(', ')
    io.stdout(fields([
      ['machine', `${c.machine.cpuModel}, ${plural(c.machine.cpuCores, 'core')}, ${megabytes(c.machine.totalMemoryMb)} memory, ${gpus}`],
      ['limits', `${plural(c.limits.maxCores, 'core')}, ${megabytes(c.limits.maxMemoryMb)} memory, GPU ${c.limits.shareGpu ? 'shared' : 'not shared'}`],
      ['slots', `${c.slots.total} total, ${c.slots.used} in use, ${c.slots.free} free`],
      ['offering', `${plural(c.freeCores, 'free core')}, ${megabytes(c.freeMemoryMb)} free memory, ${plural(c.freeGpus, 'GPU')}`]
    ]))
    return EXIT.OK
  }
}
