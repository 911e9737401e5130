// Builds the package: ESM and CJS bundles of lib/, bundled declarations for each, and the ESM
// wrappers that Node loads for `import` (see "One copy per process" in docs/architecture.md).
import typescript from "@rollup/plugin-typescript";
import { dts } from "rollup-plugin-dts";
import inlineConstants from "./rollup-inline-constants.mjs";

// One entry per export of package.json. What they share (the scheduler, Task, the effect
// classes, the combinators and sync primitives) goes into one chunk, dist/core.*, so that every
// entry of one build sees the same classes. ioredis is skein/redis's optional peer.
const input = { index: "lib/index.ts", node: "lib/node/index.ts", redis: "lib/redis/index.ts" };
const external = /^(node:|ioredis$)/;
const compilerOptions = { stripInternal: true };
const manualChunks = (id) => (/[/\\]lib[/\\](core|combinators|sync|debug)[/\\]/.test(id) ? "core" : undefined);

/**
 * On Node, `import "skein"` resolves (through the "node" condition of package.json's exports) to
 * dist/wrapper/<entry>.mjs, which re-exports the CJS build: `import` and `require` in one process
 * then share one scheduler and one set of classes. Written for every entry of the CJS output,
 * from the names rollup says it exports.
 */
function esmWrappers() {
  return {
    name: "skein-esm-wrappers",
    generateBundle(options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== "chunk" || !chunk.isEntry) continue;
        const names = [...chunk.exports].sort();
        if (names.includes("default")) throw new Error(`${chunk.name}: a default export needs its own line in the wrapper`);
        const source = [
          `// skein's ${chunk.fileName} for \`import\` on Node: the CommonJS build itself, so that \`import\``,
          `// and \`require\` in one process share one copy of skein (one scheduler, one set of classes).`,
          `import cjs from "../${chunk.fileName}";`,
          ``,
          `export const {`,
          ...names.map((n) => `  ${n},`),
          `} = cjs;`,
          ``,
        ].join("\n");
        this.emitFile({ type: "asset", fileName: `wrapper/${chunk.name}.mjs`, source });
      }
    },
  };
}

export default [
  {
    input,
    external,
    output: [
      { dir: "dist", format: "es", entryFileNames: "[name].mjs", chunkFileNames: "[name].mjs", manualChunks, sourcemap: true },
      {
        dir: "dist",
        format: "cjs",
        entryFileNames: "[name].cjs",
        chunkFileNames: "[name].cjs",
        manualChunks,
        sourcemap: true,
        plugins: [esmWrappers()],
      },
    ],
    // The integer constants written as numbers where they are used (see rollup-inline-constants.mjs).
    plugins: [typescript({ tsconfig: "./tsconfig.build.json" }), inlineConstants()],
  },
  {
    input,
    external,
    output: [
      { dir: "dist", format: "es", entryFileNames: "[name].d.mts", chunkFileNames: "[name].d.mts", manualChunks, sourcemap: true },
      { dir: "dist", format: "es", entryFileNames: "[name].d.cts", chunkFileNames: "[name].d.cts", manualChunks, sourcemap: true },
    ],
    // Declaration maps: "go to definition" in an editor lands in lib/ (shipped in the package).
    plugins: [dts({ tsconfig: "./tsconfig.build.json", compilerOptions, sourcemap: true })],
  },
];
