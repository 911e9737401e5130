// Builds the package: ESM and CJS bundles of lib/, and bundled declarations for each.
import typescript from "@rollup/plugin-typescript";
import { dts } from "rollup-plugin-dts";

// Two entries, skein and skein/node; what they share goes into one chunk, so both see the same
// scheduler, Task and effect classes.
const input = { index: "lib/index.ts", node: "lib/node/index.ts" };
const external = /^node:/;
const compilerOptions = { stripInternal: true };

export default [
  {
    input,
    external,
    output: [
      { dir: "dist", format: "es", entryFileNames: "[name].mjs", chunkFileNames: "[name].mjs", sourcemap: true },
      { dir: "dist", format: "cjs", entryFileNames: "[name].cjs", chunkFileNames: "[name].cjs", sourcemap: true },
    ],
    plugins: [typescript({ tsconfig: "./tsconfig.build.json" })],
  },
  {
    input,
    external,
    output: [
      { dir: "dist", format: "es", entryFileNames: "[name].d.mts", chunkFileNames: "[name].d.mts" },
      { dir: "dist", format: "es", entryFileNames: "[name].d.cts", chunkFileNames: "[name].d.cts" },
    ],
    plugins: [dts({ tsconfig: "./tsconfig.build.json", compilerOptions })],
  },
];
