// Subscribes handlers to one event target and returns the one call that
// unsubscribes them all, so each of the daemon's log features detaches on stop.

interface Target {
  addEventListener(type: string, handler: (evt: any) => void): void
  removeEventListener(type: string, handler: (evt: any) => void): void
}

export function listen (target: Target, handlers: Record<string, (evt: any) => void>): () => void {
  const entries = Object.entries(handlers)
  for (const [type, handler] of entries) {
    target.addEventListener(type, handler)
  }
  return () => {
    for (const [type, handler] of entries) {
      target.removeEventListener(type, handler)
    }
  }
}
