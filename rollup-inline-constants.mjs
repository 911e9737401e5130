// A rollup plugin: each use of a chunk's top-level `const NAME = <integer>` (the task and frame
// bits, the budgets) is written as the number itself, `16777216 /* PARKING */`.
//
// Why: V8 keeps a module's constants in the module's context, and optimised code reads one
// there on every use, with a check that it is initialised (its temporal dead zone), a check
// that it is a small integer, and an untagging: six to eight instructions where an immediate
// costs none (`node --print-opt-code`, the step loop). Written as numbers, `t.flags & PARKING`
// is one `test`. (Declared `var`, they lose the first check only, and V8 no longer treats them
// as constants: a ping-pong cost +8 %.) See docs/performance.md, the eighteenth round.
import MagicString from "magic-string";

/** The integer `node` (a literal, `-n`, `a << b`, `a | b`) stands for, or undefined. Not -0,
 * which a number written in the code cannot be. */
function integer(node) {
  if (node.type === "Literal") return Number.isInteger(node.value) ? node.value : undefined;
  if (node.type === "UnaryExpression" && node.operator === "-") {
    const v = integer(node.argument);
    return v === undefined || v === 0 ? undefined : -v;
  }
  if (node.type === "BinaryExpression" && (node.operator === "<<" || node.operator === "|")) {
    const a = integer(node.left);
    const b = integer(node.right);
    if (a === undefined || b === undefined) return undefined;
    return node.operator === "<<" ? a << b : a | b;
  }
  return undefined;
}

/** Visit every node of `node`'s tree with its parent and the key it is under. */
function walk(node, visit, parent = null, key = null) {
  visit(node, parent, key);
  for (const k of Object.keys(node)) {
    const child = node[k];
    if (Array.isArray(child)) {
      for (const c of child) if (c !== null && typeof c === "object" && typeof c.type === "string") walk(c, visit, node, k);
    } else if (child !== null && typeof child === "object" && typeof child.type === "string") walk(child, visit, node, k);
  }
}

/** The identifiers a binding pattern (`a`, `{ a, b: [c] }`, `d = 1`, `...e`) declares. */
function declared(pattern, out) {
  if (pattern === null) return;
  if (pattern.type === "Identifier") out.push(pattern);
  else if (pattern.type === "ObjectPattern") for (const p of pattern.properties) declared(p.type === "RestElement" ? p.argument : p.value, out);
  else if (pattern.type === "ArrayPattern") for (const e of pattern.elements) declared(e, out);
  else if (pattern.type === "AssignmentPattern") declared(pattern.left, out);
  else if (pattern.type === "RestElement") declared(pattern.argument, out);
}

/**
 * The chunk `code` (parsed by `parse`, rollup's) with the uses of its top-level integer constants
 * inlined. A name declared anywhere else in the chunk too (a parameter, a local, a function, an
 * import), or assigned anywhere (which would throw), is left alone, as are property names, the
 * names in import and export lists, and `import.meta` and `new.target`. (A use that runs before
 * the constant is initialised, which would throw a ReferenceError, gets the number instead.)
 */
export function inlineConstants(code, parse) {
  const ast = parse(code);
  const constants = new Map(); // name -> { value, id }
  for (const statement of ast.body) {
    if (statement.type !== "VariableDeclaration" || statement.kind !== "const") continue;
    for (const d of statement.declarations) {
      const value = d.id.type === "Identifier" && d.init !== null ? integer(d.init) : undefined;
      if (value !== undefined) constants.set(d.id.name, { value, id: d.id });
    }
  }
  const bindings = new Map(); // name -> how many declarations
  walk(ast, (node) => {
    const ids = [];
    if (node.type === "VariableDeclarator") declared(node.id, ids);
    else if (node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") {
      if (node.id) ids.push(node.id);
      for (const p of node.params) declared(p, ids);
    } else if ((node.type === "ClassDeclaration" || node.type === "ClassExpression") && node.id) ids.push(node.id);
    else if (node.type === "CatchClause") declared(node.param, ids);
    else if (node.type.startsWith("Import") && node.type.endsWith("Specifier")) ids.push(node.local);
    // Assigned, which a constant cannot be: counted as another binding, so left alone.
    else if (node.type === "AssignmentExpression" || node.type === "ForInStatement" || node.type === "ForOfStatement") {
      if (node.left.type !== "VariableDeclaration") declared(node.left, ids);
    } else if (node.type === "UpdateExpression" && node.argument.type === "Identifier") ids.push(node.argument);
    for (const id of ids) bindings.set(id.name, (bindings.get(id.name) ?? 0) + 1);
  });
  const s = new MagicString(code);
  walk(ast, (node, parent, key) => {
    if (node.type !== "Identifier" || parent === null) return;
    const c = constants.get(node.name);
    if (c === undefined || c.id === node || bindings.get(node.name) !== 1) return;
    const text = `${c.value < 0 ? `(${c.value})` : c.value} /* ${node.name.replace(/\$\d+$/, "")} */`;
    if (parent.type === "Property" && parent.shorthand) {
      if (key === "key") s.appendLeft(node.end, `: ${text}`); // `{ FORK }` -> `{ FORK: 512 /* FORK */ }`
      return;
    }
    if (key === "key" && !parent.computed) return; // a property or method name
    if (parent.type === "MemberExpression" && key === "property" && !parent.computed) return;
    if (parent.type.startsWith("Export") || parent.type.startsWith("Import") || parent.type === "MetaProperty") return;
    if (parent.type.endsWith("Statement") && key === "label") return;
    s.overwrite(node.start, node.end, text);
  });
  return s;
}

/** The plugin: every chunk of every output. */
export default function inlineConstantsPlugin() {
  return {
    name: "skein-inline-constants",
    renderChunk(code) {
      const s = inlineConstants(code, (c) => this.parse(c));
      return { code: s.toString(), map: s.generateMap({ hires: true }) };
    },
  };
}
