// A program's mix of effects, yielded before a bench's workload (SKEIN_MIXED=1; the
// "skein (mixed)" column of npm run bench). A workload alone yields two or three effect classes,
// and V8 compiles the scheduler's sites that see every effect (a result's `done`, the dispatch
// code, a Park's `enter`) for just those; a server's yield dozens, and those sites are
// megamorphic, each read a probe of V8's stub cache. This runs a dozen kinds 3,000 times each
// first, so a workload measured after it costs what it would inside a program. Its sleeps, time
// slices and timeouts follow the real clock, so under callgrind its own count varies from run to
// run (~20 million instructions on the normal build): count on a build whose slice never ends
// (SLICE_MS = 1e9, as docs/performance.md's rounds do) and at sizes far apart. On the normal build
// the window also holds a major garbage collection of the mix's leftovers, at a time the real
// clock decides (35-40 million instructions: +750 to +1,450 a ping-pong round trip); on the
// endless-slice build none runs. (Run on a virtual clock of its own, the mix gives the same
// counts as this on that build: the 6,500 once measured after it was the normal build's.)

/** Yield a program's mix of effects on scheduler `s`, from skein module `m`; resolves when done. */
export function mixEffects(m, s) {
  const { action, call, channel, cooperate, fork, join, mutex, race, receive, select, self, semaphore, signal, sleep, spawn, tell, wait } = m;
  return s.run(function* mixed() {
    const ch = channel(), sig = signal(), lock = mutex(), sem = semaphore(2);
    const me = yield* self();
    const echo = yield* spawn(function* () { for (;;) yield* ch.send(yield* ch.receive()); });
    for (let i = 0; i < 3000; i++) {
      yield* call(Math.abs, i);
      yield* call(function* () { return i; });
      yield* wait(Promise.resolve(i));
      yield* ch.send(i);
      yield* ch.receive();
      yield* cooperate();
      yield* action((resolve) => void resolve(i));
      yield* join(yield* fork(function* () { return i; }));
      tell(me, i);
      yield* receive();
      yield* lock.withLock(function* () { return i; });
      yield* sem.withPermit(function* () { return i; });
      if (i % 100 === 0) {
        yield* sleep(0);
        yield* race([sig.wait(), sleep(0)]);
        yield* select({ a: ch.receive() }, { timeout: 0 });
      }
    }
    yield* echo.cancel();
  });
}
