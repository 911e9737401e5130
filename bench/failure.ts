// What a bench table shows for a case whose process failed: the error's own line, not the last
// line of its stderr (Node ends an uncaught error's report with its version, "Node.js v20.20.2").

/** The line of a failed child process's stderr (or of the error, if it wrote none) that says what
 * went wrong: the first that reads as an error (`TypeError: …`, `Error [ERR_…]: …`, V8's
 * `FATAL ERROR: …`), else the last that is not Node's version line. */
export function whyFailed(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  const lines = (err.stderr || err.message || String(e))
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^Node\.js v\d/.test(l));
  return lines.find((l) => /^(?:[A-Z]\w*)?(?:Error|Exception)\b|^FATAL ERROR\b/.test(l)) ?? lines.pop() ?? "no output";
}
