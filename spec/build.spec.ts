// The build's own transform (rollup-inline-constants.mjs): integer constants are written as
// numbers where they are used, and nothing else changes meaning.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseAst } from "rollup/parseAst";
// @ts-expect-error: a plain .mjs build script, without types
import { inlineConstants } from "../rollup-inline-constants.mjs";

const inline = (code: string): string => String(inlineConstants(code, parseAst));
/** What `code` computes, as a CommonJS-style function body. */
const run = (code: string): unknown => new Function(`${code}; return result;`)();

test("a top-level integer constant is written as its number, named in a comment", () => {
  const out = inline("const PARKING = 1 << 24;\nconst A = -3, B = 4 | 1;\nlet result = (PARKING | A) + B;");
  assert.match(out, "let result = (16777216 /* PARKING */ | (-3) /* A */) + 5 /* B */;");
  assert.is(run(out), run("const PARKING = 1 << 24; const A = -3, B = 4 | 1; let result = (PARKING | A) + B;"));
});

test("property names, shorthand properties, labels and export lists keep their meaning", () => {
  const code = [
    "const FORK = 512;",
    "const o = { FORK, FORK2: FORK, [FORK]: 1 };",
    "o.FORK; class C { FORK = 1; FORK2() { return FORK; } }",
    "FORK: for (;;) { break FORK; }",
    "let result = [o.FORK, o.FORK2, o[512], new C().FORK, new C().FORK2()];",
    "export { FORK };",
  ].join("\n");
  const out = inline(code);
  assert.match(out, "const o = { FORK: 512 /* FORK */, FORK2: 512 /* FORK */, [512 /* FORK */]: 1 };");
  assert.match(out, "o.FORK; class C { FORK = 1; FORK2() { return 512 /* FORK */; } }");
  assert.match(out, "FORK: for (;;) { break FORK; }");
  assert.match(out, "export { FORK };");
  assert.equal(run(out.replace("export { FORK };", "")), [512, 512, 1, 1, 512]);
});

test("a name declared anywhere else too is left alone everywhere", () => {
  for (const shadow of ["function f(X) { return X; }", "function f() { const X = 1; return X; }", "const f = ({ a: [X] }) => X;", "try {} catch (X) {}", "{ class X {} }"]) {
    const out = inline(`const X = 7;\n${shadow}\nlet result = X;`);
    assert.not.match(out, "/* X */", shadow);
  }
});

test("import lists, import.meta and new.target are not references (found by review)", () => {
  const out = inline('import { X as Y, Z } from "m";\nconst X = 3, meta = 1, target = 2;\nlet result = [Y, Z, X, typeof import.meta, meta, target];\nfunction F() { return new.target === F; }');
  assert.match(out, 'import { X as Y, Z } from "m";');
  assert.match(out, "typeof import.meta, 1 /* meta */, 2 /* target */]");
  assert.match(out, "return new.target === F;");
});

test("a constant assigned anywhere, even in code that never runs, is left alone (found by review)", () => {
  for (const write of ["function never() { B = 2; }", "function never(o) { ({ B } = o); }", "function never() { B++; }", "function never(o) { for (B of o); }"]) {
    const out = inline(`const B = 1;\n${write}\nlet result = B;`);
    assert.not.match(out, "/* B */", write);
    assert.is(run(out), 1, write);
  }
});

test("only integers: strings, fractions, symbols and computed values stay constants", () => {
  const out = inline('const S = "s", F = 0.5, Y = Symbol("y"), N = Number("1"), Z = -0, I = 2;\nlet result = [S, F, Y, N, Z, I];');
  assert.match(out, "let result = [S, F, Y, N, Z, 2 /* I */];"); // (-0 written as a number would be 0)
});

test.run();
