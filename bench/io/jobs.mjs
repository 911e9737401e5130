// Jobs for the worker-pool bench (plain JavaScript: Node 20 workers lack the TS loader).
export function tiny(x) {
  return x + 1;
}

/** CPU-bound: the number of primes below `n`, by trial division. */
export function primes(n) {
  let count = 0;
  for (let i = 2; i < n; i++) {
    let prime = true;
    for (let d = 2; d * d <= i; d++) if (i % d === 0) { prime = false; break; }
    if (prime) count++;
  }
  return count;
}
