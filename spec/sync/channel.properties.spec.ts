// Property-based: random producers, consumers, closes and cancels over random capacities.
// Every value sent successfully is received exactly once, in per-sender order; nothing is
// received that was not sent; what is not received is still buffered; no waiter is left.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { cancel, channel, ChannelClosedError, fork, select, sleep, type Task } from "../../lib/index.js";
import { virtual } from "../helpers.js";

const plan = fc.record({
  capacity: fc.constantFrom(0, 0, 1, 2, 5),
  producers: fc.array(fc.record({ count: fc.integer({ min: 0, max: 8 }), pause: fc.integer({ min: 0, max: 4 }) }), { minLength: 1, maxLength: 4 }),
  consumers: fc.array(fc.record({ pause: fc.integer({ min: 0, max: 4 }), viaSelect: fc.boolean() }), { minLength: 1, maxLength: 4 }),
  cancels: fc.array(fc.record({ at: fc.integer({ min: 0, max: 30 }), who: fc.nat() }), { maxLength: 3 }),
  closeAt: fc.option(fc.integer({ min: 0, max: 40 })),
});

test("channels deliver every sent value exactly once, in order, and leave nothing behind", async () => {
  await fc.assert(
    fc.asyncProperty(plan, async ({ capacity, producers, consumers, cancels, closeAt }) => {
      const s = virtual();
      const ch = channel<string>(capacity);
      const other = channel<string>(); // never used: select cases on it must leave no trace
      const sent: string[] = [];
      const received: string[] = [];
      const byConsumer: string[][] = [];
      await s.run(function* () {
        const started: Task[] = [];
        for (let id = 0; id < producers.length; id++) {
          const p = producers[id]!;
          started.push(
            yield* fork(function* producer() {
              for (let i = 0; i < p.count; i++) {
                const v = `${id}:${i}`;
                try {
                  yield* ch.send(v);
                } catch (e) {
                  if (e instanceof ChannelClosedError) return;
                  throw e;
                }
                sent.push(v); // the send returned: it counts as sent successfully
                yield* sleep(p.pause);
              }
            }),
          );
        }
        for (let who = 0; who < consumers.length; who++) {
          const c = consumers[who]!;
          started.push(
            yield* fork(function* consumer() {
              for (;;) {
                let v: string | undefined;
                if (c.viaSelect) {
                  const r = yield* select({ v: ch.receive(), x: other.receive() }, { timeout: 7 });
                  if (r.case === "timeout") continue;
                  v = r.value;
                } else v = yield* ch.receive();
                if (v === undefined) return;
                received.push(v);
                (byConsumer[who] ??= []).push(v);
                yield* sleep(c.pause);
              }
            }),
          );
        }
        for (const { at, who } of cancels) {
          yield* fork(function* canceller() {
            yield* sleep(at);
            yield* cancel(started[who % started.length]!);
          });
        }
        yield* fork(function* closer() {
          yield* sleep(closeAt ?? 60);
          ch.close();
        });
      });

      // Nothing received that was not sent, and nothing twice.
      assert.is(new Set(received).size, received.length, "a value was received twice");
      for (const v of received) assert.ok(sent.includes(v), `received ${v}, which was never sent`);
      // Each consumer sees each sender's values in the order they were sent.
      for (const seen of byConsumer) {
        for (let id = 0; id < producers.length; id++) {
          const order = (seen ?? []).filter((v) => v.startsWith(`${id}:`)).map((v) => Number(v.split(":")[1]));
          assert.equal(order, [...order].sort((a, b) => a - b), `sender ${id} out of order`);
        }
      }
      // Every value sent is received, or still buffered (all consumers may have been cancelled).
      const left: string[] = [];
      for (let v = ch.tryReceive(); v !== undefined; v = ch.tryReceive()) left.push(v);
      assert.equal([...received, ...left].sort(), [...sent].sort(), "a sent value vanished");
      // No waiter left behind on any channel.
      for (const c of [ch, other]) {
        const q = c as unknown as { receivers: { size: number }; senders: { size: number } };
        assert.is(q.receivers.size + q.senders.size, 0, "a waiter was left behind");
      }
    }),
    { numRuns: 300 },
  );
});

test.run();
