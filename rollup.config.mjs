// Builds the package: ESM and CJS bundles of lib/, and bundled declarations for each.
import typescript from "@rollup/plugin-typescript";
import { dts } from "rollup-plugin-dts";

// Three entries, skein, skein/node and skein/redis; what they share goes into one chunk, so all
// see the same scheduler, Task and effect classes. ioredis is skein/redis's optional peer.
const input = { index: "lib/index.ts", node: "lib/node/index.ts", redis: "lib/redis/index.ts" };
const external = /^(node:|ioredis$)/;
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
