import { oneFn, until, LONG, type Peer } from "./peer.js";

const one = Promise.resolve(1);

async function trips(n: number): Promise<number> {
  let count = 0;
  for (let i = 0; i < n; i++) count += await one;
  return count;
}

async function nest(depth: number, n: number): Promise<number> {
  return depth <= 1 ? trips(n) : await nest(depth - 1, n);
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const native: Peer = {
  effect: "await p",
  nesting: "await sub()",
  roundTrip: trips,
  depth: nest,
  async sleepers(n, ms) {
    let done = 0;
    async function sleeper() {
      await delay(ms);
      done++;
    }
    const all: Promise<void>[] = [];
    for (let i = 0; i < n; i++) all.push(sleeper());
    await Promise.all(all);
    return done;
  },
  parked(n) {
    let started = 0;
    async function sleeper() {
      started++;
      await delay(LONG);
    }
    for (let i = 0; i < n; i++) void sleeper();
    return until(() => started, n);
  },
  parkedFresh(n) {
    let started = 0;
    for (let i = 0; i < n; i++) {
      void (async () => {
        started++;
        await delay(LONG);
      })();
    }
    return until(() => started, n);
  },
};

// ---- channels: a minimal unbuffered promise channel, the hand-written floor ----------------
class PromiseChannel<T> {
  private readonly takers: Array<(v: T) => void> = [];
  private readonly putters: Array<[T, () => void]> = [];
  send(v: T): Promise<void> {
    const take = this.takers.shift();
    if (take) {
      take(v);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.putters.push([v, resolve]));
  }
  receive(): Promise<T> {
    const put = this.putters.shift();
    if (put) {
      put[1]();
      return Promise.resolve(put[0]);
    }
    return new Promise((resolve) => this.takers.push(resolve));
  }
}

// ---- a buffered promise channel: a value there is returned as it is, `await`ed in one tick ----
class BufferedPromiseChannel<T> {
  private readonly ring: Array<T | undefined>;
  private head = 0;
  private size = 0;
  private readonly takers: Array<(v: T) => void> = [];
  private readonly putters: Array<[T, () => void]> = [];
  constructor(readonly capacity: number) {
    this.ring = new Array<T | undefined>(capacity);
  }
  send(v: T): void | Promise<void> {
    const take = this.takers.shift();
    if (take) return take(v);
    if (this.size < this.capacity) {
      this.ring[(this.head + this.size++) % this.capacity] = v;
      return;
    }
    return new Promise((resolve) => this.putters.push([v, resolve]));
  }
  receive(): T | Promise<T> {
    if (this.size > 0) {
      const v = this.ring[this.head]!;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
      const put = this.putters.shift();
      if (put) {
        this.ring[(this.head + this.size++) % this.capacity] = put[0];
        put[1]();
      }
      return v;
    }
    return new Promise((resolve) => this.takers.push(resolve));
  }
}

native.callSync = async (n) => {
  let count = 0;
  for (let i = 0; i < n; i++) count += await oneFn();
  return count;
};

native.buffered = async (n) => {
  const ch = new BufferedPromiseChannel<number>(1000);
  let got = 0;
  for (let i = 0; i < n; i++) {
    await ch.send(i);
    if ((await ch.receive()) === i) got++;
  }
  return got;
};

native.pingPong = async (n) => {
  const ping = new PromiseChannel<number>();
  const pong = new PromiseChannel<number>();
  void (async () => {
    for (;;) {
      const v = await ping.receive();
      if (v < 0) return;
      await pong.send(v + 1);
    }
  })();
  let x = 0;
  for (let i = 0; i < n; i++) {
    await ping.send(x);
    x = await pong.receive();
  }
  await ping.send(-1);
  return x;
};

async function plusOne(x: number): Promise<number> {
  return x + 1;
}

native.allOfTwo = async (n) => {
  let got = 0;
  for (let i = 0; i < n; i++) {
    const [a, b] = await Promise.all([plusOne(i), plusOne(i)]);
    if (a + b === 2 * i + 2) got++;
  }
  return got;
};

native.raceSleep = async (n) => {
  let got = 0;
  for (let i = 0; i < n; i++) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), LONG)));
    if ((await Promise.race([plusOne(i), late])) === i + 1) got++;
    clearTimeout(timer);
  }
  return got;
};
