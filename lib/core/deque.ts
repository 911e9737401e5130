// A first-in first-out ring buffer: the scheduler's run queue, channel buffers, mailboxes. O(1) at
// both ends; removal from the middle is O(n) (waiting tasks are in a WaitQueue, which is O(1)).

/**
 * @internal A growable ring buffer. Its array length stays a power of two (indexes wrap with a
 * mask), and an emptied buffer that had grown large is released.
 */
export class Deque<T> {
  private items: Array<T | undefined> = new Array(16);
  private head = 0;
  /** How many items are queued. */
  size = 0;

  push(item: T): void {
    if (this.size === this.items.length) this.grow();
    const items = this.items;
    items[(this.head + this.size) & (items.length - 1)] = item;
    this.size++;
  }

  /** Put `item` first in line, before the oldest. */
  unshift(item: T): void {
    if (this.size === this.items.length) this.grow();
    const items = this.items;
    this.head = (this.head - 1) & (items.length - 1);
    items[this.head] = item;
    this.size++;
  }

  private grow(): void {
    const items = this.items;
    const bigger = new Array<T | undefined>(items.length * 2);
    for (let i = 0; i < this.size; i++) bigger[i] = items[(this.head + i) & (items.length - 1)];
    this.items = bigger;
    this.head = 0;
  }

  /** Remove and return the oldest item. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const items = this.items;
    const item = items[this.head];
    items[this.head] = undefined;
    this.head = (this.head + 1) & (items.length - 1);
    if (--this.size === 0 && items.length > 4096) {
      // A burst (a hundred thousand forks at once) must not pin a huge empty array for good.
      this.items = new Array(16);
      this.head = 0;
    }
    return item;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head];
  }

  /** The item `i` places from the oldest. */
  at(i: number): T | undefined {
    return i < 0 || i >= this.size ? undefined : this.items[(this.head + i) & (this.items.length - 1)];
  }

  /** Remove the item `i` places from the oldest, keeping the order of the others. Moves the
   * shorter side: taking the oldest (a mailbox's usual case) is O(1). */
  removeAt(i: number): T {
    if (i === 0) return this.shift()!;
    const items = this.items;
    const mask = items.length - 1;
    const item = items[(this.head + i) & mask]!;
    if (i < this.size / 2) {
      for (let j = i; j > 0; j--) items[(this.head + j) & mask] = items[(this.head + j - 1) & mask];
      items[this.head] = undefined;
      this.head = (this.head + 1) & mask;
    } else {
      for (let j = i; j < this.size - 1; j++) items[(this.head + j) & mask] = items[(this.head + j + 1) & mask];
      items[(this.head + this.size - 1) & mask] = undefined;
    }
    this.size--;
    return item;
  }

  /** Remove the first occurrence of `item`; false if it is not queued. */
  remove(item: T): boolean {
    for (let i = 0; i < this.size; i++) {
      if (this.items[(this.head + i) & (this.items.length - 1)] === item) {
        this.removeAt(i);
        return true;
      }
    }
    return false;
  }
}
