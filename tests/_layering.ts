/**
 * The layering rules of the published tree (DESIGN.md "Layers, and where each
 * thing lives"; docs/decisions.md L1, O1-O3), as pure functions over source
 * text and import edges. `tests/layering_test.ts` feeds them the real tree.
 *
 * Nothing here reads a file or imports the project: it works on strings, so
 * the test needs only `--allow-read` (for the walk) and the rules can be
 * tested on synthetic inputs.
 *
 * @module
 */

// ---- lexing -------------------------------------------------------------------

/** One token of a TypeScript source, enough to find imports reliably. */
export interface Token {
  /** `tpl` is a template literal without substitutions; `tplpart` a piece of one with them. */
  kind: "id" | "num" | "str" | "tpl" | "tplpart" | "regex" | "punct";
  /** The identifier, the punctuation character, or a string's raw contents (no quotes). */
  value: string;
  /** Offset of the token's first character in the source. */
  start: number;
}

/** What {@linkcode lex} returns. */
export interface Lexed {
  tokens: Token[];
  /** The source with every comment blanked (newlines kept, so offsets and lines hold). */
  stripped: string;
  /**
   * The source with comments AND the contents of string, template and regex
   * literals blanked (quotes and `${...}` expressions kept): what code reads.
   */
  code: string;
}

// Keywords after which a `/` starts a regular expression, not a division.
const EXPR_KEYWORDS = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
  "extends",
]);

const ID_START = /[\p{ID_Start}$_]/u;
const ID_PART = /[\p{ID_Continue}$\u200c\u200d]/u;

/**
 * Splits `source` into tokens, skipping comments, and returns the comment-free
 * and literal-free views of it. Handles strings, nested template literals and
 * regular expression literals, so an `import` or `Deno.build.os` inside any of
 * them, or inside a comment or a JSDoc example, is not code.
 */
export function lex(source: string): Lexed {
  const tokens: Token[] = [];
  const stripped = source.split("");
  const code = source.split("");
  const blank = (arr: string[], from: number, to: number) => {
    for (let k = from; k < to && k < arr.length; k++) if (arr[k] !== "\n") arr[k] = " ";
  };
  // "b" for a `{`, "t" for the `${` of a template.
  const braces: ("b" | "t")[] = [];
  const n = source.length;
  let i = 0;

  // Reads a template chunk starting at `i` (just after "`" or a closing "}")
  // up to the closing "`" (returns true) or a "${" (returns false).
  const templateChunk = (): boolean => {
    const from = i;
    while (i < n) {
      const c = source[i];
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "`") {
        blank(code, from, i);
        i++;
        return true;
      }
      if (c === "$" && source[i + 1] === "{") {
        blank(code, from, i);
        i += 2;
        return false;
      }
      i++;
    }
    blank(code, from, n);
    return true;
  };

  while (i < n) {
    const c = source[i];
    // whitespace
    if (
      c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v" ||
      c === "\uFEFF" || c === "\u00a0"
    ) {
      i++;
      continue;
    }
    // comments
    if (c === "/" && source[i + 1] === "/") {
      const end = source.indexOf("\n", i);
      const stop = end === -1 ? n : end;
      blank(stripped, i, stop);
      blank(code, i, stop);
      i = stop;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? n : end + 2;
      blank(stripped, i, stop);
      blank(code, i, stop);
      i = stop;
      continue;
    }
    // a hashbang on the first line
    if (i === 0 && c === "#" && source[1] === "!") {
      const end = source.indexOf("\n");
      const stop = end === -1 ? n : end;
      blank(stripped, 0, stop);
      blank(code, 0, stop);
      i = stop;
      continue;
    }
    const start = i;
    // strings
    if (c === '"' || c === "'") {
      i++;
      while (i < n && source[i] !== c && source[i] !== "\n") i += source[i] === "\\" ? 2 : 1;
      tokens.push({ kind: "str", value: source.slice(start + 1, Math.min(i, n)), start });
      blank(code, start + 1, i);
      i++;
      continue;
    }
    // templates
    if (c === "`") {
      i++;
      const closed = templateChunk();
      if (closed) {
        tokens.push({ kind: "tpl", value: source.slice(start + 1, i - 1), start });
      } else {
        tokens.push({ kind: "tplpart", value: source.slice(start + 1, i - 2), start });
        braces.push("t");
      }
      continue;
    }
    // identifiers and keywords
    if (ID_START.test(c) || c === "\\") {
      i++;
      while (i < n && (ID_PART.test(source[i]) || source[i] === "\\")) i++;
      tokens.push({ kind: "id", value: source.slice(start, i), start });
      continue;
    }
    // numbers
    if ((c >= "0" && c <= "9") || (c === "." && source[i + 1] >= "0" && source[i + 1] <= "9")) {
      i++;
      while (i < n && /[\w.]/.test(source[i])) i++;
      tokens.push({ kind: "num", value: source.slice(start, i), start });
      continue;
    }
    // regular expression literals
    if (c === "/") {
      const prev = tokens[tokens.length - 1];
      const regexHere = prev === undefined ||
        (prev.kind === "punct" && prev.value !== ")" && prev.value !== "]" && prev.value !== "}") ||
        (prev.kind === "id" && EXPR_KEYWORDS.has(prev.value));
      if (regexHere) {
        i++;
        let inClass = false;
        while (i < n && source[i] !== "\n") {
          const d = source[i];
          if (d === "\\") {
            i += 2;
            continue;
          }
          if (d === "[") inClass = true;
          else if (d === "]") inClass = false;
          else if (d === "/" && !inClass) break;
          i++;
        }
        blank(code, start + 1, i);
        i++;
        while (i < n && ID_PART.test(source[i])) i++; // flags
        tokens.push({ kind: "regex", value: source.slice(start, i), start });
        continue;
      }
    }
    // braces, and the end of a template substitution
    if (c === "{") {
      braces.push("b");
    } else if (c === "}") {
      if (braces.pop() === "t") {
        i++;
        const closed = templateChunk();
        tokens.push({ kind: "tplpart", value: "", start });
        if (!closed) braces.push("t");
        continue;
      }
    }
    tokens.push({ kind: "punct", value: c, start });
    i++;
  }
  return { tokens, stripped: stripped.join(""), code: code.join("") };
}

/** `source` with every comment (JSDoc examples included) blanked. */
export function stripComments(source: string): string {
  return lex(source).stripped;
}

/** The 1-based line of `offset` in `source`. */
export function lineOf(source: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < source.length; k++) if (source.charCodeAt(k) === 10) line++;
  return line;
}

// ---- imports ------------------------------------------------------------------

/**
 * How a module refers to another: `import ... from`, `import type ... from`,
 * `import "x"`, `export ... from` (including `export *`), `export type ... from`,
 * or `import("x")` (also in type positions: `typeof import("x")`).
 */
export type ImportKind =
  | "import"
  | "import-type"
  | "side-effect"
  | "export"
  | "export-type"
  | "dynamic";

/** One import found by {@linkcode parseImports}. */
export interface ImportRecord {
  /** The specifier, or `null` for a dynamic import whose argument is not a string literal. */
  specifier: string | null;
  kind: ImportKind;
  /** 1-based line of the `import`/`export` keyword. */
  line: number;
}

const isPunct = (t: Token | undefined, v: string) =>
  t !== undefined && t.kind === "punct" && t.value === v;
const isId = (t: Token | undefined, v: string) =>
  t !== undefined && t.kind === "id" && t.value === v;
const isLiteral = (t: Token | undefined) =>
  t !== undefined && (t.kind === "str" || t.kind === "tpl");

/**
 * Every import and re-export of `source`, in order. Comments, strings and
 * JSDoc examples are skipped; multi-line clauses are handled.
 */
export function parseImports(source: string): ImportRecord[] {
  const { tokens } = lex(source);
  const out: ImportRecord[] = [];
  // Line numbers, computed incrementally (tokens are in source order).
  let lineAt = 0, line = 1;
  const lineFor = (offset: number) => {
    for (; lineAt < offset; lineAt++) if (source.charCodeAt(lineAt) === 10) line++;
    return line;
  };

  // From token `j`, finds `from "<spec>"` at brace depth 0 and returns the
  // index of the string token, or -1 when the clause ends without one.
  const findFrom = (j: number): number => {
    let depth = 0;
    for (; j < tokens.length - 1; j++) {
      const t = tokens[j];
      if (t.kind === "punct") {
        if (t.value === "{") depth++;
        else if (t.value === "}") depth--;
        else if (depth === 0 && (t.value === ";" || t.value === "=" || t.value === "(")) return -1;
      } else if (depth === 0 && t.kind === "id") {
        if (t.value === "from" && isLiteral(tokens[j + 1])) return j + 1;
        if (t.value === "import" || t.value === "export") return -1;
      }
      if (depth < 0) return -1;
    }
    return -1;
  };

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== "id" || (t.value !== "import" && t.value !== "export")) continue;
    if (isPunct(tokens[i - 1], ".")) continue; // `x.import(...)`, `x.export`
    const next = tokens[i + 1];
    if (next === undefined) break;

    if (t.value === "import") {
      if (isPunct(next, ".")) continue; // import.meta
      if (isPunct(next, "(")) {
        const arg = tokens[i + 2];
        const after = tokens[i + 3];
        const literal = isLiteral(arg) && (isPunct(after, ")") || isPunct(after, ","));
        out.push({
          specifier: literal ? arg.value : null,
          kind: "dynamic",
          line: lineFor(t.start),
        });
        continue;
      }
      if (isLiteral(next)) {
        out.push({ specifier: next.value, kind: "side-effect", line: lineFor(t.start) });
        i++;
        continue;
      }
      // `import type X from`, but not `import type from "x"` (a default named `type`)
      // nor `import type, { a } from "x"`.
      const typeOnly = isId(next, "type") &&
        !(isId(tokens[i + 2], "from") && isLiteral(tokens[i + 3])) &&
        !isPunct(tokens[i + 2], ",") && !isPunct(tokens[i + 2], "=");
      const s = findFrom(i + 1);
      if (s !== -1) {
        out.push({
          specifier: tokens[s].value,
          kind: typeOnly ? "import-type" : "import",
          line: lineFor(t.start),
        });
        i = s;
      }
      continue;
    }

    // export
    let j = i + 1;
    let typeOnly = false;
    if (isId(next, "type") && (isPunct(tokens[i + 2], "{") || isPunct(tokens[i + 2], "*"))) {
      typeOnly = true;
      j++;
    }
    const head = tokens[j];
    if (isPunct(head, "*")) {
      const s = findFrom(j + 1);
      if (s !== -1) {
        out.push({
          specifier: tokens[s].value,
          kind: typeOnly ? "export-type" : "export",
          line: lineFor(t.start),
        });
        i = s;
      }
    } else if (isPunct(head, "{")) {
      let depth = 0;
      let k = j;
      for (; k < tokens.length; k++) {
        if (isPunct(tokens[k], "{")) depth++;
        else if (isPunct(tokens[k], "}") && --depth === 0) break;
      }
      if (isId(tokens[k + 1], "from") && isLiteral(tokens[k + 2])) {
        out.push({
          specifier: tokens[k + 2].value,
          kind: typeOnly ? "export-type" : "export",
          line: lineFor(t.start),
        });
        i = k + 2;
      }
    }
  }
  return out;
}

/** Whether an import of this kind is erased at runtime (it still counts as an edge). */
export function isTypeOnly(kind: ImportKind): boolean {
  return kind === "import-type" || kind === "export-type";
}

// ---- paths --------------------------------------------------------------------

/** Normalizes a `/`-separated path relative to the tree's root (`a/./b/../c` → `a/c`). */
export function normalize(path: string): string {
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else parts.push(p);
  }
  return parts.join("/");
}

/**
 * The tree-relative path `spec` names from the file `from`, or `null` when
 * `spec` is not relative (a bare name, `jsr:`, `npm:`, `node:`, a URL...).
 * A path leaving the tree starts with `../`.
 */
export function resolveSpecifier(from: string, spec: string): string | null {
  if (!spec.startsWith("./") && !spec.startsWith("../")) return null;
  const dir = from.includes("/") ? from.slice(0, from.lastIndexOf("/")) : "";
  return normalize(`${dir}/${spec}`);
}

// ---- layers -------------------------------------------------------------------

/** A layer of DESIGN.md's order: its name and rank. */
export interface Layer {
  name: string;
  rank: number;
}

/**
 * DESIGN.md's order. A file may import its own layer or a layer of lower rank;
 * layers of equal rank (`loop/selector` and `loop/proactor`, `loop/unix` and
 * `loop/windows`) may not import each other.
 */
export const LAYERS: readonly Layer[] = [
  { name: "ffi", rank: 0 },
  { name: "selectors", rank: 1 },
  { name: "net", rank: 2 },
  { name: "transports", rank: 3 },
  { name: "loop", rank: 4 },
  { name: "loop/tasks", rank: 5 },
  { name: "loop/base", rank: 6 },
  { name: "loop/selector", rank: 7 },
  { name: "loop/proactor", rank: 7 },
  // The `./loop` entry point gathers the contract, tasks, base and selector loop kinds for users;
  // nothing inside loop/ imports it.
  { name: "loop/mod.ts", rank: 7.5 },
  { name: "loop/unix", rank: 8 },
  { name: "loop/windows", rank: 8 },
  { name: "policy.ts", rank: 9 },
  { name: "runner.ts", rank: 9.5 },
  { name: "streams", rank: 10 },
  { name: "mod.ts", rank: 11 },
];

const LAYER_BY_NAME = new Map(LAYERS.map((l) => [l.name, l]));

/**
 * The layer of a tree-relative path, or `null` for a file in no layer (a new
 * folder under `loop/`, a new root file, a file outside the published tree).
 * `loop/x.ts` is the contract (but `loop/mod.ts`, the entry point, is a layer of its own);
 * `loop/base/**` is `loop/base`; `ffi/**` is `ffi`.
 */
export function layerOf(path: string): Layer | null {
  const p = normalize(path);
  const parts = p.split("/");
  if (parts.length === 1) return LAYER_BY_NAME.get(p) ?? null;
  const top = parts[0];
  if (top === "loop") {
    if (parts.length === 2) {
      return LAYER_BY_NAME.get(parts[1] === "mod.ts" ? "loop/mod.ts" : "loop")!;
    }
    return LAYER_BY_NAME.get(`loop/${parts[1]}`) ?? null;
  }
  const layer = LAYER_BY_NAME.get(top);
  return layer && !top.endsWith(".ts") ? layer : null;
}

/**
 * The part of `ffi/` a path belongs to, for the rules inside it: `sys` (the
 * seam, `ffi/sys.ts`), `os_error` (`ffi/os_error.ts`), `root` (other files
 * directly in `ffi/`, such as `_dlopen.ts`), `unix`, `linux`, `darwin`,
 * `windows`; `null` outside `ffi/` or in an unknown sub-folder.
 */
export function ffiPartOf(path: string): string | null {
  const parts = normalize(path).split("/");
  if (parts[0] !== "ffi" || parts.length < 2) return null;
  if (parts.length === 2) {
    if (parts[1] === "sys.ts") return "sys";
    if (parts[1] === "os_error.ts") return "os_error";
    return "root";
  }
  return FFI_ALLOWED.has(parts[1]) ? parts[1] : null;
}

/**
 * Inside `ffi/`, which parts each part may import (its own included where
 * listed). `os_error.ts` imports nothing. `unix/` never imports `linux/` or
 * `darwin/` (they import it); `linux/` and `darwin/` never import each other;
 * `windows/` and the Unix parts never import each other. Nothing in `ffi/`
 * imports the seam `sys.ts` (it is `ffi/`'s top: code outside uses it), and
 * `sys.ts` imports only `os_error.ts` and each family's `mod.ts` (O1:
 * "imports the Unix implementation as one namespace"), see
 * {@linkcode SYS_TARGETS}.
 */
export const FFI_ALLOWED: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ["os_error", new Set<string>()],
  ["root", new Set(["root", "os_error"])],
  ["unix", new Set(["unix", "root", "os_error"])],
  ["linux", new Set(["linux", "unix", "root", "os_error"])],
  ["darwin", new Set(["darwin", "unix", "root", "os_error"])],
  ["windows", new Set(["windows", "root", "os_error"])],
  ["openssl", new Set(["openssl", "root", "os_error"])],
  ["sys", new Set(["os_error", "unix", "windows"])],
]);

/** The only files `ffi/sys.ts` may import. */
export const SYS_TARGETS: ReadonlySet<string> = new Set([
  "ffi/os_error.ts",
  "ffi/unix/mod.ts",
  "ffi/windows/seam.ts",
]);

/**
 * The node of the folder graph a file belongs to: its layer's name, with
 * `ffi/` split into its parts (`ffi/sys.ts`, `ffi/os_error.ts`, `ffi/*`,
 * `ffi/unix`, ...), so a cycle between `ffi/` parts shows too.
 */
export function unitOf(path: string): string | null {
  const part = ffiPartOf(path);
  return part !== null ? ffiPartName(part) : layerOf(path)?.name ?? null;
}

/** How a part of `ffi/` is named in messages and in the folder graph. */
function ffiPartName(part: string): string {
  if (part === "sys") return "ffi/sys.ts";
  if (part === "os_error") return "ffi/os_error.ts";
  if (part === "root") return "ffi/*";
  return `ffi/${part}`;
}

// ---- edges --------------------------------------------------------------------

/** One import of one file. `to` is the tree-relative target, `null` for a non-relative specifier. */
export interface Edge {
  from: string;
  to: string | null;
  specifier: string | null;
  kind: ImportKind;
  line: number;
}

/** A broken rule. */
export interface Violation {
  /** `layer`, `ffi`, `seam`, `resolve`, `cycle`, `os`, `ffi-api`. */
  rule: string;
  file: string;
  line?: number;
  /** The import specifier concerned, if any. */
  specifier?: string;
  message: string;
}

/** The edges of one file from its parsed imports. */
export function edgesOf(file: string, imports: readonly ImportRecord[]): Edge[] {
  return imports.map((r) => ({
    from: file,
    to: r.specifier === null ? null : resolveSpecifier(file, r.specifier),
    specifier: r.specifier,
    kind: r.kind,
    line: r.line,
  }));
}

/** Options of {@linkcode checkEdges}. */
export interface CheckOptions {
  /** The published non-test files, tree-relative: every relative import must name one. */
  files: ReadonlySet<string>;
  /**
   * Files outside `ffi/` allowed to import `ffi/` past its seam (`ffi/sys.ts`,
   * `ffi/os_error.ts`), each with the `ffi/` parts it may reach and a reason.
   * Omit to skip the seam rule.
   */
  seamExceptions?: readonly SeamException[];
}

/** A backend-specific file that may import its own `ffi/` folder (decision O1). */
export interface SeamException {
  /** A tree-relative file, or a folder ending in `/` (every file under it). */
  path: string;
  /** The `ffi/` parts (`unix`, `linux`, `darwin`, `windows`) it may import. */
  parts: readonly string[];
  /** Only `import type`/`export type` edges are allowed. */
  typeOnly?: boolean;
  reason: string;
}

const describeEdge = (e: Edge) =>
  `${e.kind} "${e.specifier}"${isTypeOnly(e.kind) ? " (type-only still counts)" : ""}`;

/**
 * Checks every edge against the rules: the layer order, the rules inside
 * `ffi/`, the seam (when `seamExceptions` is given), and that every import is
 * relative and names a published non-test file.
 */
export function checkEdges(edges: readonly Edge[], options: CheckOptions): Violation[] {
  const out: Violation[] = [];
  const reportedUnlayered = new Set<string>();
  for (const e of edges) {
    const at = { file: e.from, line: e.line, specifier: e.specifier ?? undefined };
    if (e.specifier === null) {
      out.push({
        rule: "resolve",
        ...at,
        message: "dynamic import() of a non-literal: cannot be checked",
      });
      continue;
    }
    if (e.to === null) {
      out.push({
        rule: "resolve",
        ...at,
        message: `${
          describeEdge(e)
        } is not relative: runtime code may have no dependency (only relative imports)`,
      });
      continue;
    }
    if (!options.files.has(e.to)) {
      out.push({
        rule: "resolve",
        ...at,
        message: `${
          describeEdge(e)
        } resolves to "${e.to}", which is not a non-test file of the published tree`,
      });
      continue;
    }
    const fromLayer = layerOf(e.from);
    const toLayer = layerOf(e.to);
    if (fromLayer === null || toLayer === null) {
      for (const f of [e.from, e.to]) {
        if (layerOf(f) === null && !reportedUnlayered.has(f)) {
          reportedUnlayered.add(f);
          out.push({
            rule: "layer",
            file: f,
            message: `"${f}" is in no layer: add its folder to LAYERS`,
          });
        }
      }
      continue;
    }
    if (fromLayer.name !== toLayer.name && toLayer.rank >= fromLayer.rank) {
      const why = toLayer.rank === fromLayer.rank
        ? "a sibling layer of the same rank"
        : "a later layer";
      out.push({
        rule: "layer",
        ...at,
        message:
          `${fromLayer.name} (${fromLayer.rank}) imports ${toLayer.name} (${toLayer.rank}), ${why}: ${
            describeEdge(e)
          } → ${e.to}`,
      });
      continue;
    }
    const fromPart = ffiPartOf(e.from);
    const toPart = ffiPartOf(e.to);
    if (fromLayer.name === "ffi") {
      if (fromPart === null || toPart === null) {
        const f = fromPart === null ? e.from : e.to;
        if (!reportedUnlayered.has(f)) {
          reportedUnlayered.add(f);
          out.push({
            rule: "ffi",
            file: f,
            message: `"${f}" is in no known part of ffi/: add its folder to FFI_ALLOWED`,
          });
        }
        continue;
      }
      if (!FFI_ALLOWED.get(fromPart)!.has(toPart)) {
        out.push({
          rule: "ffi",
          ...at,
          message: fromPart === "os_error"
            ? `ffi/os_error.ts imports nothing, but has ${describeEdge(e)} → ${e.to}`
            : `${ffiPartName(fromPart)} may not import ${ffiPartName(toPart)}: ${
              describeEdge(e)
            } → ${e.to}`,
        });
        continue;
      }
      if (fromPart === "sys" && !SYS_TARGETS.has(e.to)) {
        out.push({
          rule: "ffi",
          ...at,
          message: `ffi/sys.ts imports only ${[...SYS_TARGETS].join(", ")}, not ${e.to}`,
        });
      }
      continue;
    }
    if (
      options.seamExceptions && toLayer.name === "ffi" && toPart !== "sys" && toPart !== "os_error"
    ) {
      const ok = options.seamExceptions.some((x) =>
        (x.path.endsWith("/") ? e.from.startsWith(x.path) : e.from === x.path) && toPart !== null &&
        x.parts.includes(toPart) && (!x.typeOnly || isTypeOnly(e.kind))
      );
      if (!ok) {
        out.push({
          rule: "seam",
          ...at,
          message:
            `code outside ffi/ reaches ffi/ through ffi/sys.ts or ffi/os_error.ts only (O1), not ${e.to} (${e.kind})`,
        });
      }
    }
  }
  return out;
}

// ---- cycles -------------------------------------------------------------------

/** The folder graph: for each unit (see {@linkcode unitOf}), the units it imports (self-edges dropped). */
export function folderGraph(edges: readonly Edge[]): Map<string, Set<string>> {
  const g = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.to === null) continue;
    const a = unitOf(e.from), b = unitOf(e.to);
    if (a === null || b === null) continue;
    if (!g.has(a)) g.set(a, new Set());
    if (!g.has(b)) g.set(b, new Set());
    if (a !== b) g.get(a)!.add(b);
  }
  return g;
}

/**
 * The strongly connected components of `graph` with more than one node
 * (Tarjan), each sorted. Self-edges are ignored.
 */
export function stronglyConnected(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];
  let counter = 0;
  const succ = (v: string) => [...(graph.get(v) ?? [])].filter((w) => w !== v).sort();

  const strongConnect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of succ(v)) {
      if (!index.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) sccs.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) strongConnect(v);
  return sccs;
}

/**
 * The cycles of `graph`: one per strongly connected component of more than
 * one node, as a closed path `[a, b, ..., a]` (the shortest from the
 * component's first node back to it). Self-edges are not cycles (a folder
 * imports itself freely).
 */
export function findCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const succ = (v: string) => [...(graph.get(v) ?? [])].filter((w) => w !== v).sort();
  return stronglyConnected(graph).map((scc) => {
    const members = new Set(scc);
    const start = scc[0];
    const prev = new Map<string, string>();
    const queue = [start];
    const seen = new Set([start]);
    let last: string | null = null;
    while (queue.length > 0 && last === null) {
      const v = queue.shift()!;
      for (const w of succ(v)) {
        if (!members.has(w)) continue;
        if (w === start) {
          last = v;
          break;
        }
        if (!seen.has(w)) {
          seen.add(w);
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    const back: string[] = [];
    for (let v: string | undefined = last!; v !== undefined && v !== start; v = prev.get(v)) {
      back.push(v);
    }
    return [start, ...back.reverse(), start];
  });
}

/**
 * The cycles of the folder graph of `edges`, as violations naming the
 * component and one file edge per hop of a cycle through it.
 */
export function checkCycles(edges: readonly Edge[]): Violation[] {
  const graph = folderGraph(edges);
  const sccs = stronglyConnected(graph);
  return findCycles(graph).map((cycle, k) => {
    const hops = cycle.slice(0, -1).map((a, h) => {
      const b = cycle[h + 1];
      const e = edges.find((x) => x.to !== null && unitOf(x.from) === a && unitOf(x.to) === b);
      return e ? `${a} → ${b} (${e.from}:${e.line} imports ${e.to})` : `${a} → ${b}`;
    });
    return {
      rule: "cycle",
      file: cycle[0],
      message: `folder cycle ${cycle.join(" → ")} (component: ${sccs[k].join(", ")}): ${
        hops.join("; ")
      }`,
    };
  });
}

// ---- what code outside ffi/ may touch -----------------------------------------

/** A file outside `ffi/` allowed to break a source rule, and why. */
export interface SourceException {
  file: string;
  rule: "os" | "ffi-api";
  reason: string;
}

/**
 * Code (comments, JSDoc examples and string contents excluded) that reads
 * the OS name: `Deno.build.os` (also in a type, `typeof Deno.build.os`),
 * `Deno.build["os"]`, or `Deno.build` as a whole (destructured or aliased).
 * `Deno.build.arch` and the other fields are not the OS.
 */
const OS_READ = /\bDeno\s*\??\.\s*build\b(?!\s*\??\.\s*(?!os\b)[\p{ID_Start}$_])/gu;
/** `Deno.dlopen` and the pointer API. */
const FFI_API =
  /\bDeno\s*\??\.\s*(dlopen|UnsafePointer|UnsafePointerView|UnsafeCallback|UnsafeFnPointer|PointerValue|PointerObject)\b/g;
/**
 * `Deno[...]` or `Deno` as a value (`const d = Deno`, `const { dlopen } = Deno`):
 * either could hide the above from this check.
 */
const DENO_OPAQUE = /\bDeno\b(?!\s*\??\.\s*[\p{ID_Start}$_])/gu;

/**
 * The source rules for one file: outside `ffi/`, no code reads the OS name
 * (`os`) or uses `Deno.dlopen` or the pointer API (`ffi-api`), unless
 * `exceptions` names the file for that rule. Inside `ffi/`, only
 * `ffi/_dlopen.ts` calls `Deno.dlopen` (O3).
 */
export function checkSource(
  file: string,
  source: string,
  exceptions: readonly SourceException[] = [],
): Violation[] {
  const { code } = lex(source);
  const out: Violation[] = [];
  const excepted = (rule: string) => exceptions.some((x) => x.file === file && x.rule === rule);
  const report = (rule: string, re: RegExp, message: (m: string) => string) => {
    for (const m of code.matchAll(re)) {
      out.push({
        rule,
        file,
        line: lineOf(source, m.index!),
        message: message(m[0].replace(/\s+/g, "")),
      });
    }
  };
  if (normalize(file).startsWith("ffi/")) {
    if (normalize(file) !== "ffi/_dlopen.ts") {
      report(
        "ffi-api",
        /\bDeno\s*\??\.\s*dlopen\b/g,
        (m) => `${m}: only ffi/_dlopen.ts opens libraries (O3)`,
      );
    }
    return out;
  }
  if (!excepted("os")) {
    report("os", OS_READ, (m) => `${m} outside ffi/: read PLATFORM or OS_FAMILY from ffi/sys.ts`);
  }
  if (!excepted("ffi-api")) {
    report(
      "ffi-api",
      FFI_API,
      (m) => `${m} outside ffi/: only ffi/ calls Deno.dlopen or touches pointers`,
    );
    report(
      "ffi-api",
      DENO_OPAQUE,
      (m) =>
        `"${m}" not followed by a member name outside ffi/: write Deno.<member> so this check can see it`,
    );
  }
  return out;
}

/** A violation as one readable line: `file:line "spec": message`. */
export function formatViolation(v: Violation): string {
  const where = v.line === undefined ? v.file : `${v.file}:${v.line}`;
  return `[${v.rule}] ${where}${v.specifier ? ` "${v.specifier}"` : ""}: ${v.message}`;
}
