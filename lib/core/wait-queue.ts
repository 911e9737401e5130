// A first-in first-out queue of waiters (parked tasks, select cases) from which a cancelled
// waiter leaves in O(1): each waiter remembers its position, and leaving leaves a hole.

/** @internal What a wait queue holds: something that remembers where it is queued. A task waits
 * in one queue at a time, so one field serves every queue (and the timer buckets). */
export interface Queued {
  waitIndex: number;
}

/** Positions wrap at 2^30, so they stay small integers however many waiters pass through. */
const WRAP = 0x3fffffff;

/** @internal Slots visited by the bookkeeping of every wait queue: holes skipped, slots copied
 * when a queue grows or is compacted. Specs read it to pin that leaving costs O(1). */
export const queueWork = { steps: 0 };

/** The ring of every queue that has never held a waiter: never written to. */
const NONE: ReadonlyArray<null> = [];

/**
 * @internal A growable ring of waiters, first in, first out. A waiter that leaves before its
 * turn (cancelled) leaves a hole in its slot, found at once through `waitIndex`. Holes at either
 * end are dropped as they appear, so the oldest and newest slots are always waiters; a queue
 * that fills up with holes is compacted before it would grow, so it never holds more than twice
 * as many slots as waiters (plus a few), and every hole is skipped or copied at most once.
 */
export class WaitQueue<W extends Queued> {
  /** The ring; none until the first push (most queues of a mailbox or a channel hold few waiters,
   * many hold none ever). Its length is 0 or a power of two. */
  private items: Array<W | null> = NONE as Array<W | null>;
  /** Where the oldest slot is in `items`. */
  private head = 0;
  /** Slots in use from `head`: waiters and holes. */
  private span = 0;
  /** The position of the slot at `head` (positions count pushes, wrapping at 2^30). */
  private base = 0;
  /** How many waiters are queued. */
  size = 0;

  /** Queue `w` last. */
  push(w: W): void {
    if (this.span === this.items.length) this.makeRoom();
    const items = this.items;
    items[(this.head + this.span) & (items.length - 1)] = w;
    w.waitIndex = (this.base + this.span) & WRAP;
    this.span++;
    this.size++;
  }

  /** Remove and return the oldest waiter. */
  shift(): W | undefined {
    if (this.size === 0) return undefined;
    const items = this.items;
    const w = items[this.head]!;
    items[this.head] = null;
    this.head = (this.head + 1) & (items.length - 1);
    this.base = (this.base + 1) & WRAP;
    this.span--;
    if (--this.size === 0) this.emptied();
    else if (items[this.head] === null) this.trimFront();
    return w;
  }

  /** The oldest waiter, left in place. */
  peek(): W | undefined {
    return this.size === 0 ? undefined : this.items[this.head]!;
  }

  /** Take `w` out of the queue wherever it is, in O(1); false if it is not queued here. */
  remove(w: W): boolean {
    const offset = (w.waitIndex - this.base) & WRAP;
    if (offset >= this.span) return false;
    const items = this.items;
    const i = (this.head + offset) & (items.length - 1);
    if (items[i] !== w) return false;
    items[i] = null;
    if (--this.size === 0) this.emptied();
    else if (offset === 0) this.trimFront();
    else if (offset === this.span - 1) this.trimBack();
    return true;
  }

  /** Slots in use, holes included: `at(0)` to `at(length - 1)` are the queue in order. */
  get length(): number {
    return this.span;
  }

  /** The offset of the slot at position `position` (see `waitIndex`) from the oldest now, or -1
   * if that slot has left from the front since. */
  offsetOf(position: number): number {
    const offset = (position - this.base) & WRAP;
    return offset < this.span || offset <= WRAP >>> 1 ? offset : -1;
  }

  /** The waiter in slot `offset` from the oldest, or null for a hole. */
  at(offset: number): W | null {
    return offset < 0 || offset >= this.span ? null : this.items[(this.head + offset) & (this.items.length - 1)]!;
  }

  private trimFront(): void {
    const items = this.items;
    const mask = items.length - 1;
    while (items[this.head] === null) {
      queueWork.steps++;
      this.head = (this.head + 1) & mask;
      this.base = (this.base + 1) & WRAP;
      this.span--;
    }
  }

  private trimBack(): void {
    const items = this.items;
    const mask = items.length - 1;
    while (items[(this.head + this.span - 1) & mask] === null) {
      queueWork.steps++;
      this.span--;
    }
  }

  /** The queue holds no waiter (so no hole either): start again small if it had grown large. */
  private emptied(): void {
    this.span = 0;
    if (this.items.length > 1024) {
      this.items = NONE as Array<W | null>;
      this.head = 0;
    }
  }

  /** Full: if at least half the slots are holes, squeeze them out (the waiters learn their new
   * positions); else double the ring. Either way each slot is copied once. */
  private makeRoom(): void {
    const items = this.items;
    const mask = items.length - 1;
    const out = new Array<W | null>(items.length === 0 ? 4 : this.size * 2 <= this.span ? items.length : items.length * 2);
    let n = 0;
    for (let k = 0; k < this.span; k++) {
      queueWork.steps++;
      const w = items[(this.head + k) & mask]!;
      if (w === null) continue;
      out[n] = w;
      w.waitIndex = (this.base + n) & WRAP;
      n++;
    }
    this.items = out;
    this.head = 0;
    this.span = n;
  }
}
