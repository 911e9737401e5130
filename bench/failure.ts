// What a bench table shows for a case whose process failed: the error's own line, not the last
// line of its stderr (Node ends an uncaught error's report with its version, "Node.js v20.20.2"),
// nor the command line that execFile's message begins with.

/** The lines of stderr that are Node's, not the error's: its version, its hints, its warnings. */
const NODE_S = /^Node\.js v\d|^\(Use `node --trace-|^\(node:\d+\) /;
/** A line that names an error: `TypeError: …`, `Error [ERR_…]: …`, `Cancelled: …`. */
const NAMED = /^[A-Z]\w*(?: \[\w+\])?: /;
/** A line that reads as an error where no stack says which: `…Error: …`, `…Error [ERR_…]: …`,
 * V8's `FATAL ERROR: …`. */
const ERROR_LINE = /^(?:[A-Z]\w*)?(?:Error|Exception)(?::| \[|$)|^FATAL ERROR\b/;

/**
 * What went wrong in a child process that `execFile` reports as failed: the line of its stderr
 * that names the error its stack belongs to (the nearest `Name: …` above the first frame, else the
 * line just above it), else the first that reads as an error, else the last (a string thrown has
 * no stack); with the signal that killed it (`killed by SIGKILL`, as the out-of-memory killer does),
 * or its exit status when it wrote nothing of its own.
 */
export function whyFailed(e: unknown): string {
  const err = e as { stderr?: string; message?: string; signal?: string | null; code?: unknown };
  const lines = (err.stderr ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !NODE_S.test(l));
  const frame = lines.findIndex((l) => l.startsWith("at "));
  let line: string | undefined;
  if (frame > 0) {
    let named = frame - 1;
    while (named > 0 && !NAMED.test(lines[named]!)) named--;
    line = NAMED.test(lines[named]!) ? lines[named] : lines[frame - 1];
  } else {
    line = lines.find((l) => ERROR_LINE.test(l)) ?? lines.at(-1);
  }
  const killed = typeof err.signal === "string" ? `killed by ${err.signal}` : undefined;
  if (line !== undefined) return killed === undefined ? line : `${killed}: ${line}`;
  if (killed !== undefined) return killed;
  if (typeof err.code === "number") return `exited with status ${err.code}, writing nothing to stderr but Node's`;
  return (err.message ?? String(e)).split("\n")[0]!;
}
