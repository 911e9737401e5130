// What a bench table shows for a case whose process failed: the error's own line, not the last
// line of its stderr (Node ends an uncaught error's report with its version, "Node.js v20.20.2"),
// nor the command line that execFile's message begins with.

/** The lines of stderr that are Node's, not the error's: its version, and its hint to trace. */
const NODE_S = /^Node\.js v\d|^\(Use `node --trace-/;
/** A line that reads as an error: `TypeError: …`, `Error [ERR_…]: …`, V8's `FATAL ERROR: …`. */
const ERROR_LINE = /^(?:[A-Z]\w*)?(?:Error|Exception)\b|^FATAL ERROR\b/;

/**
 * What went wrong in a child process that `execFile` reports as failed: the line of its stderr
 * just before the first stack frame (an error's message, whatever the error's name), else the
 * first that reads as an error, else the last; the signal that killed it (`killed by SIGKILL`:
 * the kernel's out-of-memory killer, a timeout), or its exit status, when it wrote nothing.
 */
export function whyFailed(e: unknown): string {
  const err = e as { stderr?: string; message?: string; signal?: string | null; code?: unknown };
  const lines = (err.stderr ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !NODE_S.test(l));
  const frame = lines.findIndex((l) => l.startsWith("at "));
  const line = frame > 0 ? lines[frame - 1] : (lines.find((l) => ERROR_LINE.test(l)) ?? lines.at(-1));
  const killed = typeof err.signal === "string" ? `killed by ${err.signal}` : undefined;
  if (line !== undefined) return killed === undefined ? line : `${killed}: ${line}`;
  if (killed !== undefined) return killed;
  if (typeof err.code === "number") return `exited with status ${err.code}, writing nothing to stderr`;
  return (err.message ?? String(e)).split("\n")[0]!;
}
