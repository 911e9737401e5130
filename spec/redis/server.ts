// Shared by the skein/redis specs: a real redis-server on a free loopback port in a temporary
// directory, started for a spec and stopped after it. Never a mock.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stop it (SIGTERM, or SIGKILL with `kill`) and wait until it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port and directory. */
  start(): Promise<void>;
  /** Stop it for good and remove its directory. */
  remove(): Promise<void>;
}

/** A free TCP port on 127.0.0.1, as the system picks one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Start redis-server. With `persist`, writes go to an append-only file (fsynced every second, and at a clean shutdown), so a restart keeps the data. */
export async function startRedis(options: { persist?: boolean } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "skein-redis-"));
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--daemonize", "no", "--protected-mode", "no"];
  args.push(...(options.persist ? ["--appendonly", "yes", "--appendfsync", "everysec"] : ["--appendonly", "no"]));
  let child: ChildProcess | null = null;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
      child = c;
      let out = "";
      const onData = (b: Buffer) => {
        out += b;
        if (/Ready to accept connections/.test(out)) {
          c.stdout!.off("data", onData);
          c.stdout!.resume();
          resolve();
        }
      };
      c.stdout!.on("data", onData);
      c.stderr!.resume();
      c.once("error", (e) => reject(new Error(`could not start redis-server (is it installed? apt-get install redis-server): ${e.message}`)));
      c.once("exit", (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${out}`)));
    });
  const stop = (signal: NodeJS.Signals = "SIGTERM") =>
    new Promise<void>((resolve) => {
      const c = child;
      child = null;
      if (c === null || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once("exit", () => resolve());
      c.kill(signal);
    });
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop,
    start,
    async remove() {
      await stop("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
