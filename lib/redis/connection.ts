// A connection to Redis for skein/redis: an ioredis client opened by a coroutine and closed by
// the scope that opened it. ioredis is loaded on first use, so that only this entry needs it.

import type { Redis, RedisOptions } from "ioredis";
import type { Operation } from "../core/effect.js";
import { action, wait } from "../core/effects.js";

/**
 * Where to reach Redis: a `redis://[:password@]host:port[/db]` URL, or ioredis options (host,
 * port, password, tls…).
 *
 * @example
 * ```ts
 * const here: Address = "redis://127.0.0.1:6379";
 * const there: Address = { host: "queue.internal", port: 6380, password: process.env.REDIS_PASSWORD };
 * ```
 */
export type Address = string | RedisOptions;

/** @internal The ioredis client class, loaded once, with a clear error if it is not installed. */
let client: Promise<typeof Redis> | undefined;
function loadClient(): Promise<typeof Redis> {
  return (client ??= import("ioredis").then(
    (m) => (m.Redis ?? (m as unknown as { default: typeof Redis }).default),
    (e: unknown) => {
      client = undefined;
      throw new Error("skein/redis needs the ioredis package, an optional peer dependency: install it with `npm install ioredis@6`", { cause: e });
    },
  ));
}

/** @internal How `address` reads in a message: the URL, or host:port. */
export function where(address: Address): string {
  if (typeof address === "string") return address.replace(/\/\/[^@/]*@/, "//…@"); // no password in messages
  return `${address.host ?? "127.0.0.1"}:${address.port ?? 6379}`;
}

/**
 * @internal Connect to Redis and wait until the connection is ready. A client that cannot
 * connect at once fails with an error that says where it tried and what to check. Once open, it
 * reconnects by itself (every 50 ms at first, then every second) for as long as it is open, and
 * commands wait for the connection to come back rather than fail.
 */
export function* connect(address: Address, name: string, pipelined = false): Operation<Redis> {
  const Client = yield* wait(loadClient());
  const base: RedisOptions = typeof address === "string" ? {} : address;
  const options: RedisOptions = {
    ...base,
    lazyConnect: true,
    maxRetriesPerRequest: null,
    // Not before the first connection: Redis down at start is an error, not a wait.
    retryStrategy: (times) => (ready ? Math.min(50 * times, 1000) : null),
    connectionName: name,
    // ioredis's disconnect() arms a timer to destroy a socket that does not close; with the
    // socket gone already (Redis down) it would hold the process 2 s for nothing.
    disconnectTimeout: 200,
    // Commands issued in the same tick (the acks and sends of many coroutines) go in one write.
    enableAutoPipelining: pipelined,
  };
  let ready = false;
  const redis = typeof address === "string" ? new Client(address, options) : new Client(options);
  let last: Error | undefined;
  redis.on("error", (e: Error) => void (last = e)); // reconnection is automatic; the last cause is kept for messages
  return yield* action<Redis>((resolve, reject) => {
    redis.connect().then(
      () => {
        ready = true;
        resolve(redis);
      },
      (e: unknown) => {
        if (redis.status !== "end") redis.disconnect(); // (it is closed already, retries off)
        const why = last?.message ?? (e as Error).message;
        reject(new Error(`skein/redis: cannot reach Redis at ${where(address)} (${why}). Is redis-server running there? Start it, or pass queue() the right address.`, { cause: last ?? e }));
      },
    );
    return () => redis.disconnect(); // cancelled while connecting
  });
}

/** @internal Close a connection at once (a blocked command ends with it) and wait until it is closed. */
export function disconnect(redis: Redis): Operation<void> {
  return action<void>((resolve) => {
    // Between two attempts to reconnect there is no socket: stopping the retries is all it takes
    // (ioredis emits no "end" then).
    if (redis.status === "end" || redis.status === "reconnecting" || redis.status === "close") {
      redis.disconnect();
      return resolve();
    }
    redis.once("end", () => resolve());
    redis.disconnect();
  });
}
