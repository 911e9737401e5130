// Builds the package: ESM and CJS bundles of lib/, and bundled declarations for each.
import typescript from "@rollup/plugin-typescript";
import { dts } from "rollup-plugin-dts";

const input = { index: "lib/index.ts" };
const compilerOptions = { stripInternal: true };

export default [
  {
    input,
    output: [
      { dir: "dist", format: "es", entryFileNames: "[name].mjs", sourcemap: true },
      { dir: "dist", format: "cjs", entryFileNames: "[name].cjs", sourcemap: true },
    ],
    plugins: [typescript({ tsconfig: "./tsconfig.build.json" })],
  },
  {
    input,
    output: [
      { dir: "dist", format: "es", entryFileNames: "[name].d.mts" },
      { dir: "dist", format: "es", entryFileNames: "[name].d.cts" },
    ],
    plugins: [dts({ tsconfig: "./tsconfig.build.json", compilerOptions })],
  },
];
