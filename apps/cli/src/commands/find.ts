// `idlegrid find`: volunteers with free capacity, found through the DHT.
import { createControlClient } from '@idlegrid/control-api'
import { EXIT } from '../exit-codes.js'
import { integerFlag, secondsFlag } from '../flags.js'
import { json as toJson, megabytes, plural, table } from '../output.js'
import type { Command } from '../command.js'

export const findCommand: Command = {
  name: 'find',
  summary: 'find volunteers with free capacity through the DHT',
  usage: 'find [--cpu N] [--memory MB] [--gpu] [--limit N] [--timeout SECONDS]',
  options: {
    cpu: { type: 'string', valueName: 'N', description: 'free cores needed (default 1)' },
    memory: { type: 'string', valueName: 'MB', description: 'free memory in MiB needed (default 0)' },
    gpu: { type: 'boolean', description: 'a shared GPU is needed' },
    limit: { type: 'string', valueName: 'N', description: 'most volunteers to list (default 20)' },
    timeout: { type: 'string', valueName: 'SECONDS', description: 'how long to search (default 10)' }
  },
  details: 'Lists only peers that answered with enough free capacity; this node itself is not listed.\nExits 0 with an empty list when none was found in time.',

  async run ({ values, dataDir, json, io, signal }) {
    const cpu = integerFlag('cpu', values.cpu, 1, 100_000)
    const memoryMb = integerFlag('memory', values.memory, 0, 1 << 30)
    const limit = integerFlag('limit', values.limit, 1, 1000)
    const timeoutMs = secondsFlag('timeout', values.timeout, 0.1, 120)
    const gpu = values.gpu === true ? true : undefined
    const found = await createControlClient({ dataDir }).find({ cpu, memoryMb, gpu, limit, timeoutMs }, { signal })
    if (json) {
      io.stdout(toJson(found))
      return EXIT.OK
    }
    const wanted = [`${plural(cpu ?? 1, 'free core')}`, ...(memoryMb != null ? [`${megabytes(memoryMb)} free memory`] : []), ...(gpu === true ? ['a GPU'] : [])].join(', ')
    if (found.length === 0) {
      io.stdout(`no volunteer with ${wanted} found\n`)
      return EXIT.OK
    }
    io.stdout(`${plural(found.length, 'volunteer')} with ${wanted}:\n`)
    io.stdout(table(
      ['PEER ID', 'FREE CORES', 'FREE MEMORY', 'GPUS', 'ADDRESS'],
      found.map(f => [f.peerId, String(f.capacity.freeCores), megabytes(f.capacity.freeMemoryMb), String(f.capacity.freeGpus), f.addresses[0] ?? '-'])
    ))
    return EXIT.OK
  }
}
