// The producer process of the `distributed` demo: sends jobs 0…total-1 to the Redis queue from
// 10 coroutines at once, and says when it is done.
import { all } from "../lib/index.js";
import { main } from "../lib/node/index.js";
import { queue } from "../lib/redis/index.js";

const [url, name, total] = process.argv.slice(2) as [string, string, string];

main(function* producer() {
  const jobs = yield* queue<{ n: number }>(name, { redis: url, capacity: 2000 }); // backpressure: at most 2000 unfinished
  yield* all(
    Array.from({ length: 10 }, (_, s) =>
      (function* () {
        for (let n = s; n < Number(total); n += 10) yield* jobs.send({ n });
      })(),
    ),
  );
  process.stdout.write(`sent ${total}\n`);
});
