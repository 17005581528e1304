// The owner's limits: defaults derived from the machine, and validation of
// limits the owner set against what the machine has.
import { ConfigError } from '@idlegrid/interface'
import type { MachineInfo, OwnerLimits } from '@idlegrid/interface'

/** Share of total memory given to tasks unless the owner says otherwise. */
export const DEFAULT_MEMORY_SHARE = 0.5

/**
 * Defaults that keep the machine usable for its owner: all cores but one (at
 * least one), half of total memory, GPUs not shared.
 */
export function defaultLimits (machine: MachineInfo): OwnerLimits {
  return {
    maxCores: Math.max(1, machine.cpuCores - 1),
    maxMemoryMb: Math.max(1, Math.floor(machine.totalMemoryMb * DEFAULT_MEMORY_SHARE)),
    shareGpu: false
  }
}

/**
 * Fills missing limits with defaults and checks them against the machine.
 *
 * @throws ConfigError naming the bad field, its value and the allowed range
 */
export function resolveLimits (machine: MachineInfo, limits: Partial<OwnerLimits> = {}): OwnerLimits {
  const defaults = defaultLimits(machine)
  const resolved: OwnerLimits = {
    maxCores: limits.maxCores ?? defaults.maxCores,
    maxMemoryMb: limits.maxMemoryMb ?? defaults.maxMemoryMb,
    shareGpu: limits.shareGpu ?? defaults.shareGpu
  }

  if (!Number.isInteger(resolved.maxCores) || resolved.maxCores < 1 || resolved.maxCores > machine.cpuCores) {
    throw new ConfigError(`maxCores must be a whole number from 1 to ${machine.cpuCores} (the cores this machine has), got ${String(limits.maxCores)}`)
  }

  if (!Number.isInteger(resolved.maxMemoryMb) || resolved.maxMemoryMb < 1 || resolved.maxMemoryMb > machine.totalMemoryMb) {
    throw new ConfigError(`maxMemoryMb must be a whole number of MiB from 1 to ${machine.totalMemoryMb} (this machine's total memory), got ${String(limits.maxMemoryMb)}`)
  }

  if (typeof resolved.shareGpu !== 'boolean') {
    throw new ConfigError(`shareGpu must be true or false, got ${String(limits.shareGpu)}`)
  }

  if (resolved.shareGpu && machine.gpus.length === 0) {
    throw new ConfigError('shareGpu is true but this machine has no GPU that nvidia-smi reports; set shareGpu to false')
  }

  return resolved
}
