// Probing what this machine has: CPU cores and model, memory (node:os) and
// NVIDIA GPUs through nvidia-smi when it is installed.
import { execFile } from 'node:child_process'
import os from 'node:os'
import { logger } from '@libp2p/logger'
import type { GpuInfo, MachineInfo } from '@idlegrid/interface'

const log = logger('idlegrid:capacity:probe')

export interface ProbeInit {
  /**
   * Command that lists GPUs in nvidia-smi's CSV format; `false` skips GPUs.
   *
   * @default 'nvidia-smi'
   */
  nvidiaSmi?: string | false
  /**
   * How long nvidia-smi may take before the probe gives up on GPUs, ms.
   *
   * @default 3000
   */
  gpuTimeoutMs?: number
}

const MIB = 1024 * 1024

/** Probes the machine. Never throws: a missing or broken nvidia-smi means no GPUs. */
export async function probeMachine (init: ProbeInit = {}): Promise<MachineInfo> {
  const cpus = os.cpus()
  const cpuCores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : Math.max(1, cpus.length)
  const gpus = init.nvidiaSmi === false ? [] : await probeNvidiaGpus(init.nvidiaSmi ?? 'nvidia-smi', init.gpuTimeoutMs ?? 3000)

  return {
    cpuModel: (cpus[0]?.model ?? 'unknown').trim() === '' ? 'unknown' : (cpus[0]?.model ?? 'unknown').trim(),
    cpuCores: Math.max(1, cpuCores),
    totalMemoryMb: Math.floor(os.totalmem() / MIB),
    freeMemoryMb: Math.floor(os.freemem() / MIB),
    gpus
  }
}

/** Runs nvidia-smi with a timeout; any failure (absent, no driver, timeout) yields no GPUs. */
export async function probeNvidiaGpus (command = 'nvidia-smi', timeoutMs = 3000): Promise<GpuInfo[]> {
  return new Promise(resolve => {
    execFile(command, ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'], {
      timeout: timeoutMs,
      maxBuffer: 64 * 1024,
      windowsHide: true
    }, (err, stdout) => {
      if (err != null) {
        log('no NVIDIA GPUs: %s', err.message)
        resolve([])
        return
      }
      resolve(parseNvidiaSmi(stdout))
    })
  })
}

/**
 * Parses `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`
 * output: one `name, MiB` line per GPU. Lines that do not parse are skipped,
 * since a driver warning on stdout must not hide the GPUs that did parse.
 */
export function parseNvidiaSmi (output: string): GpuInfo[] {
  const gpus: GpuInfo[] = []

  for (const raw of output.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '') {
      continue
    }

    // GPU names may contain commas in theory, the memory is always the last field
    const comma = line.lastIndexOf(',')
    if (comma <= 0) {
      continue
    }

    const model = line.slice(0, comma).trim()
    const memoryField = line.slice(comma + 1).trim().replace(/\s*MiB$/i, '')
    const memoryMb = Number(memoryField)

    if (model === '' || memoryField === '' || !Number.isFinite(memoryMb) || memoryMb < 0) {
      continue
    }

    gpus.push({ model, memoryMb: Math.floor(memoryMb), vendor: 'NVIDIA' })
  }

  return gpus
}
