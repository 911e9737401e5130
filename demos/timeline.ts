// A small text timeline for the demos: one row per coroutine, one column per slice of time,
// showing when it was running on the CPU, waiting, or done.
import type { Operation } from "../lib/index.js";
import { call } from "../lib/index.js";

export const RUNNING = "█";
export const WAITING = "░";
export const DONE = "✓";
export const FAILED = "✗";
export const EVENT = "|";

interface Segment {
  from: number;
  to: number;
  mark: string;
}

/** One row of the timeline. */
export class Row {
  readonly segments: Segment[] = [];
  end: { at: number; mark: string } | undefined;
  constructor(
    readonly name: string,
    private readonly now: () => number,
  ) {}

  /** Run `op`, shown as `mark` (waiting, by default) for as long as it takes. */
  *during<T>(op: Operation<T>, mark = WAITING): Operation<T> {
    const from = this.now();
    try {
      return yield* call(op);
    } finally {
      this.segments.push({ from, to: this.now(), mark });
    }
  }

  /** A span measured by the caller (a blocking computation, say). */
  span(from: number, to: number, mark = RUNNING): void {
    this.segments.push({ from, to, mark });
  }

  /** A point event, such as a tick. */
  event(mark = EVENT): void {
    const at = this.now();
    this.segments.push({ from: at, to: at, mark });
  }

  finish(mark = DONE): void {
    this.end = { at: this.now(), mark };
  }
}

/** Rows sharing one time origin, rendered to `width` columns. */
export class Timeline {
  private readonly origin = performance.now();
  readonly rows: Row[] = [];

  now = (): number => performance.now() - this.origin;

  row(name: string): Row {
    const r = new Row(name, this.now);
    this.rows.push(r);
    return r;
  }

  render(width = 60, maxRows = 12): string[] {
    const total = Math.max(1, ...this.rows.map((r) => Math.max(r.end?.at ?? 0, ...r.segments.map((s) => s.to))));
    const col = (t: number) => Math.min(width - 1, Math.floor((t / total) * width));
    const label = Math.min(18, Math.max(...this.rows.map((r) => r.name.length)));
    const shown = this.rows.length > maxRows ? [...this.rows.slice(0, maxRows - 1), this.rows[this.rows.length - 1]!] : this.rows;
    const lines = shown.map((r) => {
      const cells = Array<string>(width).fill(" ");
      for (const s of r.segments) {
        for (let c = col(s.from); c <= col(s.to); c++) {
          // Point events and running spans win over waiting.
          if (cells[c] === " " || s.mark !== WAITING) cells[c] = s.mark;
        }
      }
      if (r.end !== undefined) cells[col(r.end.at)] = r.end.mark;
      return `${r.name.slice(0, label).padEnd(label)} ${cells.join("")}`;
    });
    if (shown.length < this.rows.length) lines.splice(maxRows - 1, 0, `${"…".padEnd(label)} (${this.rows.length - maxRows} more rows)`);
    const scale = `${"".padEnd(label)} 0${`${total.toFixed(0)} ms`.padStart(width - 1)}`;
    return [...lines, scale, `${"".padEnd(label)} ${RUNNING} running  ${WAITING} waiting  ${EVENT} event  ${DONE} done  ${FAILED} failed`];
  }
}

/** Milliseconds `op` takes, with its value. */
export function* timed<T>(op: () => Operation<T>): Operation<[T, number]> {
  const t0 = performance.now();
  const value = yield* call(op);
  return [value, performance.now() - t0];
}

/** The p-th percentile (0..100) of `values`. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
