// The skein the benches measure: the build in dist/ (what users import; the npm scripts build it
// first), or the one in the directory SKEIN_DIST names (a copy of dist/ from before a change, say).
// Never lib/ through tsx: tsx bundles with esbuild's `keepNames`, which gives every class and
// function an own `name`, and V8 ran some code several times slower for it (docs/performance.md,
// twelfth round); `keepNamesBuild` makes that bundle on purpose, for its own column.
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type Skein = typeof import("../lib/index.js");

const root = fileURLToPath(new URL("../", import.meta.url));

/** The build to measure: $SKEIN_DIST, else dist/ (refused if lib/ changed after it was built). */
function distDir(): string {
  if (process.env.SKEIN_DIST) return resolve(process.env.SKEIN_DIST);
  const dir = join(root, "dist");
  const built = join(dir, "index.mjs");
  if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build first (npm run bench does)`);
  const newest = newestIn(join(root, "lib"));
  if (newest.time > statSync(built).mtimeMs) {
    throw new Error(`dist/ is older than ${newest.file}: run npm run build first (npm run bench does), or set SKEIN_DIST`);
  }
  return dir;
}

function newestIn(dir: string): { file: string; time: number } {
  let best = { file: dir, time: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const found = entry.isDirectory() ? newestIn(path) : { file: path, time: statSync(path).mtimeMs };
    if (found.time > best.time) best = found;
  }
  return best;
}

/** The skein module to measure: `index.mjs` of the build (see `distDir`). */
export async function skeinModule(): Promise<Skein> {
  const file = join(distDir(), "index.mjs");
  if (!existsSync(file)) throw new Error(`${file} is missing: SKEIN_DIST names a directory without a build`);
  return (await import(pathToFileURL(file).href)) as Skein;
}

/** Bundle the build's index.mjs as a user's esbuild build with `keepNames: true` does (tsx does
 * the same to every file it runs); returns the directory, for SKEIN_DIST. */
export async function keepNamesBuild(): Promise<string> {
  const { build } = await import("esbuild");
  const dir = join(root, "bench", ".keep-names");
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(distDir(), "index.mjs")],
    outfile: join(dir, "index.mjs"),
    bundle: true, format: "esm", platform: "node", keepNames: true, logLevel: "warning",
  });
  return dir;
}
