// CPU-bound jobs run on worker threads by the demos and the I/O guide. Plain JavaScript, so any
// Node can load it in a worker.

/** The number of primes below `n`, by trial division: deliberately slow. */
export function countPrimes(n) {
  let count = 0;
  for (let i = 2; i < n; i++) {
    let prime = true;
    for (let d = 2; d * d <= i; d++) {
      if (i % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}
