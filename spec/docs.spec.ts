// Every public export has JSDoc with an @example (DESIGN.md §4), checked with the compiler API.
import { test } from "uvu";
import * as assert from "uvu/assert";
import ts from "typescript";
import { fileURLToPath } from "node:url";

for (const [name, path, least] of [["skein", "../lib/index.ts", 30], ["skein/node", "../lib/node/index.ts", 20], ["skein/redis", "../lib/redis/index.ts", 5]] as const) {
  const entry = fileURLToPath(new URL(path, import.meta.url));

  test(`every export of ${name} has a JSDoc comment with an @example`, () => {
    const program = ts.createProgram([entry], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(entry)!;
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!);
    const missing: string[] = [];
    for (const exported of exports) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const docs = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
      const hasExample = symbol.getJsDocTags(checker).some((t) => t.name === "example");
      // Overloaded functions carry their docs on one of the signatures.
      const signatureExample = (symbol.declarations ?? []).some((d) =>
        ts.getJSDocTags(d).some((t) => t.tagName.text === "example"),
      );
      if (docs === "" || !(hasExample || signatureExample)) missing.push(exported.name);
    }
    assert.equal(missing, [], `exports without JSDoc and an @example: ${missing.join(", ")}`);
    assert.ok(exports.length > least);
  });
}

test.run();
