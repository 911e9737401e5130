// The skein the benches measure: the build in dist/ (what users import; `npm run build` first),
// or the one in the directory SKEIN_DIST names (a copy of dist/ from before a change, or the
// keepNames bundle of `keepNamesBuild`). Never lib/ through tsx: tsx bundles with esbuild's
// `keepNames`, which gives every class and function an own `name`, and V8 runs some code several
// times slower for it (see docs/performance.md, "keepNames").
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

type Skein = typeof import("../lib/index.js");

const root = new URL("../", import.meta.url);

/** The skein module to measure: `dist/index.mjs`, or `$SKEIN_DIST/index.mjs`. */
export async function skeinModule(): Promise<Skein> {
  const dir = process.env.SKEIN_DIST ? new URL(`file://${process.env.SKEIN_DIST}/`) : new URL("dist/", root);
  const file = new URL("index.mjs", dir);
  if (!existsSync(file)) throw new Error(`${fileURLToPath(file)} is missing: run npm run build first`);
  return (await import(String(file))) as Skein;
}

/** Bundle dist/index.mjs as a user's esbuild build with `keepNames: true` does (tsx does the same
 * to every file it runs); returns the directory, for SKEIN_DIST. */
export async function keepNamesBuild(): Promise<string> {
  const { build } = await import("esbuild");
  const dir = fileURLToPath(new URL("bench/.keep-names/", root));
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [fileURLToPath(new URL("dist/index.mjs", root))],
    outfile: `${dir}index.mjs`,
    bundle: true, format: "esm", platform: "node", keepNames: true, logLevel: "warning",
  });
  return dir;
}
