// Types of proc.mjs.

/** Clock ticks per second, the unit of the CPU times in /proc. */
export const CLK_TCK: number

/** User + system CPU time of a process so far, in clock ticks. Rejects when it is gone. */
export function cpuTicks (pid: number): Promise<number>

/** Process ids of a process's children (none when it is gone). */
export function childrenOf (pid: number): Promise<number[]>
