// skein/redis when Redis itself goes away mid-run: stopped (SIGTERM: it writes its append-only
// file and exits) and started again on the same port and data directory. The queue reconnects by
// itself and no job is lost; jobs may run twice (at least once), and the spec counts how many.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { call, sleep, spawn } from "../../lib/index.js";
import { queue } from "../../lib/redis/index.js";
import { ioTest, real } from "../node-helpers.js";
import { startRedis, type RedisServer } from "./server.js";

let server: RedisServer;
test.before(async () => {
  server = await startRedis({ persist: true });
});
test.after(async () => {
  await server.remove();
});

ioTest("Redis stopped and restarted mid-run: producer and worker reconnect by themselves, no job is lost", async () => {
  const total = 2000;
  const done = new Map<number, number>();
  let downFor = 0;
  await real().run(function* () {
    const producer = yield* queue<number>("restart", { redis: server.url });
    const consumer = yield* queue<number>("restart", { redis: server.url, visibilityTimeout: 1000, poll: 50 });
    const worker = yield* spawn(() =>
      consumer.work(function* (job) {
        yield* sleep(0);
        done.set(job.data, (done.get(job.data) ?? 0) + 1);
      }, { concurrency: 8 }),
    );
    const sending = yield* spawn(function* () {
      for (let i = 0; i < total; i++) yield* producer.send(i);
    });
    while (done.size < total / 4) yield* sleep(5);
    const t0 = Date.now();
    yield* call(() => server.stop("SIGTERM"));
    yield* sleep(200);
    yield* call(() => server.start());
    downFor = Date.now() - t0;
    yield* sending;
    const deadline = Date.now() + 15_000;
    while (done.size < total && Date.now() < deadline) yield* sleep(20);
    yield* worker.cancel();
  });
  const lost = [];
  for (let i = 0; i < total; i++) if (!done.has(i)) lost.push(i);
  const twice = [...done.values()].filter((n) => n > 1).length;
  if (process.env.SKEIN_REDIS_REPORT) console.log(`restart: down ${downFor} ms, ${done.size}/${total} done, lost ${lost.length}, ran twice ${twice}`);
  assert.equal(lost, [], `lost ${lost.length} of ${total} (Redis was down ${downFor} ms; ${twice} ran twice)`);
  assert.ok(twice <= 8 + 8, `${twice} jobs ran twice: at most those in flight (8) and sends in flight at the kill`);
});

ioTest("Redis gone while a receive waits: cancelling it and closing the queue end within the cleanup bound, nothing left open", async () => {
  let cancelMs = 0;
  let closeMs = 0;
  await real().run(function* () {
    let t0 = 0;
    yield* call(function* () {
      const jobs = yield* queue("gone", { redis: server.url, poll: 100 });
      const receiving = yield* spawn(() => jobs.receive());
      yield* sleep(50);
      yield* call(() => server.stop("SIGKILL"));
      yield* sleep(100);
      t0 = Date.now();
      yield* receiving.cancel();
      cancelMs = Date.now() - t0;
      t0 = Date.now();
    });
    closeMs = Date.now() - t0;
  });
  await server.start();
  if (process.env.SKEIN_REDIS_REPORT) console.log(`Redis gone: cancel ${cancelMs} ms, close ${closeMs} ms`);
  assert.ok(cancelMs < 5000, `the cancel took ${cancelMs} ms`);
  assert.ok(closeMs < 5000, `the close took ${closeMs} ms`);
});

test.run();
