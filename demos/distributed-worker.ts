// A worker process of the `distributed` demo: takes jobs from the Redis queue, 8 at a time, and
// prints a line per job it completes or fails. Run by the demo; SIGTERM stops it cleanly.
import { sleep } from "../lib/index.js";
import { main } from "../lib/node/index.js";
import { queue } from "../lib/redis/index.js";

const [url, name] = process.argv.slice(2) as [string, string];

main(function* worker() {
  const jobs = yield* queue<{ n: number }>(name, { redis: url, visibilityTimeout: 1000, poll: 100, maxAttempts: 3, retryDelay: 50 });
  process.stdout.write("ready\n");
  yield* jobs.work(function* (job) {
    const { n } = job.data;
    yield* sleep(1 + (n % 3)); // the work
    if (n % 500 === 499) throw new Error(`job ${n}: the input is corrupt`); // never succeeds
    if (n % 100 === 0 && job.attempt === 1) throw new Error(`job ${n}: a flaky backend`); // succeeds when retried
    process.stdout.write(`done ${n} ${job.attempt}\n`);
  }, { concurrency: 8 });
});
