// A local helper the e2e job imports.
export function square (n: number): number {
  return n * n
}
