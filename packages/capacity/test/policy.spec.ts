import { describe, expect, it } from 'vitest'
import { capacityReport, defaultLimits, resolveLimits } from '../src/index.js'
import type { MachineInfo } from '@idlegrid/interface'

const machine = (over: Partial<MachineInfo> = {}): MachineInfo => ({
  cpuModel: 'Test CPU', cpuCores: 8, totalMemoryMb: 16_000, freeMemoryMb: 9000, gpus: [], ...over
})

describe('owner limits', () => {
  it('defaults to all cores but one, half the memory, no GPU', () => {
    expect(defaultLimits(machine())).toEqual({ maxCores: 7, maxMemoryMb: 8000, shareGpu: false })
    expect(defaultLimits(machine({ cpuCores: 1, totalMemoryMb: 1 }))).toEqual({ maxCores: 1, maxMemoryMb: 1, shareGpu: false })
  })

  it('fills only the missing fields', () => {
    expect(resolveLimits(machine(), { maxCores: 2 })).toEqual({ maxCores: 2, maxMemoryMb: 8000, shareGpu: false })
    const gpuMachine = machine({ gpus: [{ model: 'L4', memoryMb: 23034 }] })
    expect(resolveLimits(gpuMachine, { shareGpu: true }).shareGpu).toBe(true)
  })

  it('rejects limits the machine cannot meet with a ConfigError naming the field', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ maxCores: 0 }, /maxCores.*1 to 8/],
      [{ maxCores: 9 }, /maxCores.*1 to 8/],
      [{ maxCores: 1.5 }, /maxCores/],
      [{ maxMemoryMb: 16_001 }, /maxMemoryMb.*16000/],
      [{ maxMemoryMb: -1 }, /maxMemoryMb/],
      [{ shareGpu: 'yes' }, /shareGpu/],
      [{ shareGpu: true }, /no GPU/]
    ]
    for (const [limits, message] of bad) {
      expect(() => resolveLimits(machine(), limits as any)).toThrow(message)
      try {
        resolveLimits(machine(), limits as any)
      } catch (err: any) {
        expect(err.name).toBe('ConfigError')
      }
    }
  })
})

describe('capacityReport', () => {
  it('is owner limits minus slots in use, memory split per slot', () => {
    const limits = { maxCores: 4, maxMemoryMb: 1000, shareGpu: true }
    const m = machine({ gpus: [{ model: 'L4', memoryMb: 23034 }] })
    const idle = capacityReport(m, limits, { total: 4, used: 0, free: 4 })
    expect(idle).toMatchObject({ freeCores: 4, freeMemoryMb: 1000, freeGpus: 1, slots: { total: 4, used: 0, free: 4 } })

    const busy = capacityReport(m, limits, { total: 4, used: 3, free: 1 })
    expect(busy).toMatchObject({ freeCores: 1, freeMemoryMb: 250, freeGpus: 1 })

    const full = capacityReport(m, limits, { total: 4, used: 4, free: 0 })
    expect(full).toMatchObject({ freeCores: 0, freeMemoryMb: 0, freeGpus: 0 })

    const noShare = capacityReport(m, { ...limits, shareGpu: false }, { total: 4, used: 0, free: 4 })
    expect(noShare.freeGpus).toBe(0)
  })
})
