import { chmod, writeFile } from 'node:fs/promises'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseNvidiaSmi, probeMachine, probeNvidiaGpus } from '../src/index.js'

describe('parseNvidiaSmi', () => {
  it('parses one line per GPU', () => {
    const out = 'NVIDIA H100 80GB HBM3, 81559\nNVIDIA GeForce RTX 4090, 24564\n'
    expect(parseNvidiaSmi(out)).toEqual([
      { model: 'NVIDIA H100 80GB HBM3', memoryMb: 81559, vendor: 'NVIDIA' },
      { model: 'NVIDIA GeForce RTX 4090', memoryMb: 24564, vendor: 'NVIDIA' }
    ])
  })

  it('tolerates CRLF, blank lines, a MiB suffix and commas in names', () => {
    const out = '\r\nTesla T4, 15360 MiB\r\n\r\nWeird, Name, 1024\r\n'
    expect(parseNvidiaSmi(out)).toEqual([
      { model: 'Tesla T4', memoryMb: 15360, vendor: 'NVIDIA' },
      { model: 'Weird, Name', memoryMb: 1024, vendor: 'NVIDIA' }
    ])
  })

  it('skips lines that do not parse instead of failing', () => {
    const out = [
      'NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.',
      'A100, [N/A]',
      ', 4096',
      'A10, -5',
      'L4, 23034'
    ].join('\n')
    expect(parseNvidiaSmi(out)).toEqual([{ model: 'L4', memoryMb: 23034, vendor: 'NVIDIA' }])
    expect(parseNvidiaSmi('')).toEqual([])
  })
})

describe('probeMachine', () => {
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'idlegrid-probe-'))
  })

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reports cores, model and memory from the OS', async () => {
    const machine = await probeMachine({ nvidiaSmi: false })
    expect(machine.cpuCores).toBeGreaterThanOrEqual(1)
    expect(machine.cpuModel.length).toBeGreaterThan(0)
    expect(machine.totalMemoryMb).toBe(Math.floor(os.totalmem() / 1024 / 1024))
    expect(machine.freeMemoryMb).toBeLessThanOrEqual(machine.totalMemoryMb)
    expect(machine.gpus).toEqual([])
  })

  it('reads GPUs from an nvidia-smi that answers', async () => {
    const fake = join(dir, 'fake-smi')
    await writeFile(fake, '#!/bin/sh\necho "NVIDIA A100-SXM4-40GB, 40960"\n')
    await chmod(fake, 0o755)
    const machine = await probeMachine({ nvidiaSmi: fake })
    expect(machine.gpus).toEqual([{ model: 'NVIDIA A100-SXM4-40GB', memoryMb: 40960, vendor: 'NVIDIA' }])
  })

  it('yields no GPUs when nvidia-smi is absent, fails or hangs', async () => {
    expect(await probeNvidiaGpus(join(dir, 'does-not-exist'))).toEqual([])

    const failing = join(dir, 'failing-smi')
    await writeFile(failing, '#!/bin/sh\necho "No devices were found" >&2\nexit 6\n')
    await chmod(failing, 0o755)
    expect(await probeNvidiaGpus(failing)).toEqual([])

    const hanging = join(dir, 'hanging-smi')
    await writeFile(hanging, '#!/bin/sh\nexec sleep 30\n')
    await chmod(hanging, 0o755)
    expect(await probeNvidiaGpus(hanging, 200)).toEqual([])
  })
})
