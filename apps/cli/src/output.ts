// Small helpers for human output: aligned tables and readable numbers.

/** Lays rows out in columns separated by two spaces; the last column is not padded. */
export function table (header: string[], rows: string[][]): string {
  const all = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...all.map(r => (r[i] ?? '').length)))
  return all.map(r => r.map((cell, i) => i === r.length - 1 ? cell : cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n'
}

/** `key   value` lines with keys padded to one width. */
export function fields (pairs: Array<[string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n'
}

export function plural (n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`
}

/** 3723000 -> "1h 2m 3s". */
export function duration (ms: number): string {
  const s = Math.floor(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const parts = h > 0 ? [`${h}h`, `${m}m`, `${s % 60}s`] : m > 0 ? [`${m}m`, `${s % 60}s`] : [`${s}s`]
  return parts.join(' ')
}

/** MiB as "512 MB" or "7.8 GB". */
export function megabytes (mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`
}

export function json (value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n'
}

/**
 * Writes lines at the end of the current turn of the event loop, those of one
 * turn in one write; flush() writes what waits at once (before exiting). A
 * write to a pipe wakes its reader, so a daemon's log lines leave after the
 * work that logged them, not in its way.
 */
export function turnWriter (write: (text: string) => void): { line(text: string): void, flush(): void } {
  let pending = ''
  const flush = (): void => {
    const text = pending
    pending = ''
    if (text !== '') {
      write(text)
    }
  }
  return {
    line (text: string): void {
      if (pending === '') {
        setImmediate(flush)
      }
      pending += text
    },
    flush
  }
}
