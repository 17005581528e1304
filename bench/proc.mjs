// What the benches read of other processes from /proc (Linux): CPU time in
// clock ticks and child processes. Not a benchmark itself. A plain module
// (types in proc.d.mts), so that hop-chain.mjs, run by plain node, uses it too.
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'

/** Clock ticks per second, the unit of the CPU times in /proc. */
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/** User + system CPU time of a process so far, in clock ticks. Rejects when it is gone. */
export async function cpuTicks (pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the parenthesised command name; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/** Process ids of a process's children (none when it is gone). */
export async function childrenOf (pid) {
  try {
    return (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}
