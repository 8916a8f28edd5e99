/**
 * The layering of the published tree (DESIGN.md "Layers, and where each thing
 * lives"; docs/decisions.md L1, O1-O3): every import of every non-test file
 * follows the layer order, the rules inside `ffi/` and the seam, no folder
 * cycle exists, nothing outside `ffi/` reads `Deno.build.os` or touches
 * `Deno.dlopen`/pointers, and every import is a relative path to a published
 * file. The rules are in `tests/_layering.ts`; the first tests below check
 * them on synthetic inputs, so the last (the real tree) cannot pass vacuously.
 *
 * Needs only `--allow-read`.
 *
 * @module
 */
import { assert, assertEquals, assertGreater, assertStringIncludes, fail } from "@std/assert";
import {
  checkCycles,
  checkEdges,
  checkSource,
  type Edge,
  edgesOf,
  findCycles,
  folderGraph,
  formatViolation,
  type ImportRecord,
  layerOf,
  LAYERS,
  lex,
  parseImports,
  resolveSpecifier,
  type SeamException,
  type SourceException,
  stripComments,
  unitOf,
  type Violation,
} from "./_layering.ts";

// ---- what the real tree is allowed ------------------------------------------

/** The published tree: deno.json's `publish.include`, less README/LICENSE/deno.json. */
const ROOTS = [
  "mod.ts",
  "policy.ts",
  "runner.ts",
  "ffi",
  "selectors",
  "net",
  "transports",
  "loop",
  "streams",
];
/** Folders never walked (tests and benchmarks, wherever they sit). */
const SKIP_DIRS = new Set(["tests", "bench", ".cache"]);

/**
 * Backend-specific code outside `ffi/` that may import its own `ffi/` folder
 * past the seam (`ffi/sys.ts`, `ffi/os_error.ts`), as decision O1 lists it.
 */
const SEAM_EXCEPTIONS: readonly SeamException[] = [
  {
    path: "selectors/epoll_selector.ts",
    parts: ["unix", "linux"],
    reason: "O1: the epoll selector is Linux's backend (epoll_event, epoll symbols)",
  },
  {
    path: "selectors/kqueue_selector.ts",
    parts: ["unix", "darwin"],
    reason: "O1: the kqueue selector is macOS/BSD's backend (kevent, kqueue symbols)",
  },
  {
    path: "selectors/poll_selector.ts",
    parts: ["unix"],
    reason: "O1: poll(2) is a POSIX backend (pollfd)",
  },
  {
    path: "selectors/select_selector.ts",
    parts: ["unix"],
    reason: "O1: select(2) here is the POSIX one (fd_set, timeval)",
  },
  {
    path: "selectors/winsock_select_selector.ts",
    parts: ["windows"],
    reason: "O1: Winsock select() is Windows' backend (counted fd_set, timeval, loopback waker)",
  },
  {
    path: "selectors/afd_poller.ts",
    parts: ["windows"],
    reason: "O1: AFD polling is Windows' backend (\\Device\\Afd poll slots on a completion port)",
  },
  {
    path: "selectors/afd_selector.ts",
    parts: ["windows"],
    reason: "O1: the AFD selector waits on its own I/O completion port",
  },
  {
    path: "selectors/mod.ts",
    parts: ["darwin"],
    typeOnly: true,
    reason: "re-exports the type KqueueApi that KqueueSelector's signature names (deno doc --lint)",
  },
  {
    path: "loop/unix/",
    parts: ["unix", "linux", "darwin"],
    reason:
      "O1: the Unix loop's signals, pipes, spawn and child watchers (pidfd, kqueue proc exit)",
  },
  {
    path: "loop/base/_ssl_engine.ts",
    parts: ["openssl"],
    reason: "issue 14: the TLS layer's one door to the OpenSSL bindings (ffi/openssl/)",
  },
  {
    path: "loop/windows/",
    parts: ["windows"],
    reason: "O1: the Windows loops' own calls (named pipes, processes) are Windows-only",
  },
  {
    path: "loop/proactor/",
    parts: ["windows"],
    reason: "O1: the Proactor is Windows' backend (IOCP slots, overlapped calls, the port's wait)",
  },
  {
    path: "runner.ts",
    parts: ["unix"],
    reason: "O1: Runner's SIGINT handling signals the process (kill, signal numbers)",
  },
];

/**
 * Files outside `ffi/` allowed to read `Deno.build.os` (`os`) or use
 * `Deno.dlopen`/the pointer API (`ffi-api`). None: the one place that picks
 * the default loop is `policy.ts`, which reads `OS_FAMILY` from `ffi/sys.ts`
 * (L5), and `selectors/default_selector.ts` probes with `HAS_EPOLL`,
 * `HAS_KQUEUE` and `PLATFORM` from `ffi/sys.ts`; neither reads
 * `Deno.build.os` itself.
 */
const SOURCE_EXCEPTIONS: readonly SourceException[] = [];

// ---- helpers ------------------------------------------------------------------

const specs = (source: string) => parseImports(source).map((r) => [r.kind, r.specifier]);

/** Edges of synthetic files, from `{ path: source }`. */
function edgesFrom(tree: Record<string, string>): Edge[] {
  return Object.entries(tree).flatMap(([path, src]) => edgesOf(path, parseImports(src)));
}

/** Runs the edge rules on a synthetic tree whose files are exactly its keys. */
function violationsOf(tree: Record<string, string>, seam = true): Violation[] {
  const edges = edgesFrom(tree);
  return [
    ...checkEdges(edges, {
      files: new Set(Object.keys(tree)),
      seamExceptions: seam ? SEAM_EXCEPTIONS : undefined,
    }),
    ...checkCycles(edges),
  ];
}

function assertReported(vs: Violation[], rule: string, includes: string): void {
  const text = vs.map(formatViolation).join("\n");
  assert(
    vs.some((v) => v.rule === rule && formatViolation(v).includes(includes)),
    `expected a [${rule}] violation mentioning ${JSON.stringify(includes)}, got:\n${
      text || "(none)"
    }`,
  );
}

function assertClean(vs: Violation[]): void {
  assertEquals(vs.map(formatViolation), []);
}

// ---- parseImports -------------------------------------------------------------

Deno.test("parseImports: every form of import and re-export, with its kind", () => {
  const src = `
import { a } from "./a.ts";
import type { B } from "./b.ts";
import def, { c } from './c.ts';
import * as ns from "./ns.ts";
import "./side.ts";
export { d } from "./d.ts";
export type { E } from "./e.ts";
export * from "./star.ts";
export * as star2 from "./star2.ts";
export type * from "./tstar.ts";
const m = await import("./dyn.ts");
type T = typeof import("./typeexpr.ts");
const t = import(\`./tpl.ts\`);
import { type F, g } from "./mixed.ts";
import type from "./default_named_type.ts";
import json from "./data.json" with { type: "json" };
`;
  assertEquals(specs(src), [
    ["import", "./a.ts"],
    ["import-type", "./b.ts"],
    ["import", "./c.ts"],
    ["import", "./ns.ts"],
    ["side-effect", "./side.ts"],
    ["export", "./d.ts"],
    ["export-type", "./e.ts"],
    ["export", "./star.ts"],
    ["export", "./star2.ts"],
    ["export-type", "./tstar.ts"],
    ["dynamic", "./dyn.ts"],
    ["dynamic", "./typeexpr.ts"],
    ["dynamic", "./tpl.ts"],
    ["import", "./mixed.ts"],
    ["import", "./default_named_type.ts"],
    ["import", "./data.json"],
  ]);
});

Deno.test("parseImports: multi-line clauses, with the line of the keyword", () => {
  const src = [
    "// header",
    "import {",
    "  alpha,",
    "  type Beta, // a comment inside",
    "  /* another */ gamma,",
    "} from",
    '  "./multi.ts";',
    "export type {",
    "  Delta,",
    '} from "./multi_type.ts";',
  ].join("\n");
  const got: ImportRecord[] = parseImports(src);
  assertEquals(got, [
    { specifier: "./multi.ts", kind: "import", line: 2 },
    { specifier: "./multi_type.ts", kind: "export-type", line: 8 },
  ]);
});

Deno.test("parseImports: comments, JSDoc examples, strings and regexes are not imports", () => {
  const src = `
/**
 * @example
 * \`\`\`ts
 * import { run } from "@aio/loop";
 * import type { X } from "../../streams/mod.ts";
 * \`\`\`
 */
// import { y } from "./line_comment.ts";
const s = 'import { z } from "./in_string.ts"';
const u = "export * from './in_string2.ts'";
const tpl = \`import { w } from "./in_template.ts" \${"}"} export * from "./still_template.ts"\`;
const re = /import .* from ["']x["']/g;
const re2 = /[/]import("y")/;
const url = import.meta.url;
obj.import("./method_call.ts");
const o = { import: 1, export: 2 };
export const v = 1;
export { local };
export type { Local };
import { real } from "./real.ts";
`;
  assertEquals(specs(src), [["import", "./real.ts"]]);
});

Deno.test("parseImports: imports inside template substitutions are code", () => {
  const src =
    'const x = `a ${await import("./inner.ts")} b ${`nested ${import("./deeper.ts")}`}`;\n' +
    'import { after } from "./after.ts";';
  assertEquals(specs(src), [["dynamic", "./inner.ts"], ["dynamic", "./deeper.ts"], [
    "import",
    "./after.ts",
  ]]);
});

Deno.test("parseImports: a dynamic import of a non-literal is recorded (and reported)", () => {
  const src = 'const name = "./x.ts";\nawait import(name);';
  assertEquals(parseImports(src), [{ specifier: null, kind: "dynamic", line: 2 }]);
  assertReported(violationsOf({ "loop/a.ts": src }), "resolve", "non-literal");
});

Deno.test("lex: comments and literals are blanked, offsets and lines kept", () => {
  const src = 'a /* x\ny */ b // z\nc "q" `t${d}u`';
  const { stripped, code } = lex(src);
  assertEquals(stripped.length, src.length);
  assertEquals(stripped.split("\n").length, 3);
  assertEquals(stripped.replace(/\s+/g, " "), 'a b c "q" `t${d}u`');
  assertEquals(code.replace(/\s+/g, " "), 'a b c " " ` ${d} `');
  assertEquals(stripComments("x // Deno.build.os\n"), "x" + " ".repeat(17) + "\n");
});

// ---- layerOf, resolve ----------------------------------------------------------

Deno.test("layerOf: by path, with loop/ split into the contract and its sub-folders", () => {
  const name = (p: string) => layerOf(p)?.name ?? null;
  assertEquals(name("ffi/sys.ts"), "ffi");
  assertEquals(name("ffi/unix/libc.ts"), "ffi");
  assertEquals(name("ffi/windows/kernel32.ts"), "ffi");
  assertEquals(name("selectors/epoll_selector.ts"), "selectors");
  assertEquals(name("net/socket.ts"), "net");
  assertEquals(name("transports/protocol.ts"), "transports");
  assertEquals(name("loop/future.ts"), "loop");
  assertEquals(name("loop/mod.ts"), "loop/mod.ts");
  assertEquals(name("loop/tasks/sleep.ts"), "loop/tasks");
  assertEquals(name("loop/base/server.ts"), "loop/base");
  assertEquals(name("loop/selector/sock_ops.ts"), "loop/selector");
  assertEquals(name("loop/proactor/iocp.ts"), "loop/proactor");
  assertEquals(name("loop/unix/pipes.ts"), "loop/unix");
  assertEquals(name("loop/windows/pipes.ts"), "loop/windows");
  assertEquals(name("policy.ts"), "policy.ts");
  assertEquals(name("runner.ts"), "runner.ts");
  assertEquals(name("streams/stream_reader.ts"), "streams");
  assertEquals(name("mod.ts"), "mod.ts");
  assertEquals(name("loop/unknown/x.ts"), null);
  assertEquals(name("demo.ts"), null);
  assertEquals(name("tests/x.ts"), null);
  assertEquals(layerOf("runner.ts")!.rank, 9.5);
  assertEquals(LAYERS.length, 16);
  assertEquals(unitOf("ffi/_dlopen.ts"), "ffi/*");
  assertEquals(unitOf("ffi/linux/pidfd.ts"), "ffi/linux");
  assertEquals(unitOf("loop/base/server.ts"), "loop/base");
});

Deno.test("resolveSpecifier: relative paths only", () => {
  assertEquals(resolveSpecifier("loop/base/server.ts", "../../ffi/sys.ts"), "ffi/sys.ts");
  assertEquals(resolveSpecifier("loop/base/server.ts", "./_heap.ts"), "loop/base/_heap.ts");
  assertEquals(resolveSpecifier("mod.ts", "./loop/./mod.ts"), "loop/mod.ts");
  assertEquals(resolveSpecifier("mod.ts", "../outside.ts"), "../outside.ts");
  assertEquals(resolveSpecifier("mod.ts", "@std/assert"), null);
  assertEquals(resolveSpecifier("mod.ts", "node:fs"), null);
  assertEquals(resolveSpecifier("mod.ts", "jsr:@std/assert"), null);
});

// ---- checkEdges: the layer order ----------------------------------------------

Deno.test("checkEdges: downward and same-folder imports pass", () => {
  assertClean(violationsOf({
    "ffi/sys.ts": 'import * as unix from "./unix/mod.ts";\nexport * from "./os_error.ts";',
    "ffi/os_error.ts": "export const x = 1;",
    "ffi/_dlopen.ts": "export const y = 1;",
    "ffi/unix/mod.ts": 'export * from "./libc.ts";',
    "ffi/unix/libc.ts": 'import "../_dlopen.ts";\nimport "../os_error.ts";',
    "ffi/linux/sys.ts": 'import "../unix/libc.ts";\nimport "../_dlopen.ts";',
    "selectors/base_selector.ts": 'import "../ffi/sys.ts";',
    "selectors/epoll_selector.ts": 'import "../ffi/linux/sys.ts";\nimport "./base_selector.ts";',
    "loop/future.ts": 'import type { S } from "../selectors/base_selector.ts";',
    "loop/tasks/sleep.ts": 'import "../future.ts";',
    "loop/base/x.ts": 'import "../tasks/sleep.ts";',
    "loop/selector/x.ts": 'import "../base/x.ts";',
    "loop/unix/x.ts": 'import "../selector/x.ts";\nimport "../../ffi/unix/libc.ts";',
    "policy.ts": 'import "./loop/unix/x.ts";',
    "runner.ts": 'import "./policy.ts";',
    "streams/a.ts": 'import "../runner.ts";\nimport "../policy.ts";',
    "mod.ts": 'export * from "./streams/a.ts";',
  }));
});

Deno.test("checkEdges: an upward import is reported", () => {
  const vs = violationsOf({
    "net/socket.ts": 'import { Future } from "../loop/future.ts";',
    "loop/future.ts": "export class Future {}",
  });
  assertReported(vs, "layer", "net (2) imports loop (4), a later layer");
});

Deno.test("checkEdges: a type-only import upward is reported", () => {
  const vs = violationsOf({
    "loop/abstract_event_loop.ts": 'import type { Task } from "./tasks/gather.ts";',
    "loop/tasks/gather.ts": "export type Task = 1;",
  });
  assertReported(vs, "layer", 'import-type "./tasks/gather.ts" (type-only still counts)');
});

Deno.test("checkEdges: an `export * from` upward is reported", () => {
  const vs = violationsOf({
    "loop/errors.ts": 'export * from "./base/base_event_loop.ts";',
    "loop/base/base_event_loop.ts": "export class BaseEventLoop {}",
  });
  assertReported(vs, "layer", "loop (4) imports loop/base (6)");
  const fromEntry = violationsOf({
    "loop/mod.ts": 'export * from "./unix/unix_selector_event_loop.ts";',
    "loop/unix/unix_selector_event_loop.ts": "export class UnixSelectorEventLoop {}",
  });
  assertReported(fromEntry, "layer", "loop/mod.ts (7.5) imports loop/unix (8)");
});

Deno.test("checkEdges: a multi-line import upward is reported", () => {
  const vs = violationsOf({
    "transports/base_transport.ts": 'import {\n  a,\n  b,\n} from\n  "../policy.ts";',
    "policy.ts": "export const a = 1, b = 2;",
  });
  assertReported(vs, "layer", "transports/base_transport.ts:1");
});

Deno.test("checkEdges: a dynamic import upward is reported", () => {
  const vs = violationsOf({
    "selectors/x.ts": 'const m = await import("../streams/a.ts");',
    "streams/a.ts": "export {};",
  });
  assertReported(vs, "layer", "selectors (1) imports streams (10)");
});

Deno.test("checkEdges: sibling layers of equal rank may not import each other", () => {
  const vs = violationsOf({
    "loop/selector/a.ts": 'import "../proactor/b.ts";',
    "loop/proactor/b.ts": 'import "../selector/a.ts";',
    "loop/unix/c.ts": 'import type { D } from "../windows/d.ts";',
    "loop/windows/d.ts": "export type D = 1;",
  });
  assertReported(vs, "layer", "loop/selector (7) imports loop/proactor (7), a sibling layer");
  assertReported(vs, "layer", "loop/proactor (7) imports loop/selector (7)");
  assertReported(vs, "layer", "loop/unix (8) imports loop/windows (8)");
});

Deno.test("checkEdges: a file in no layer is reported", () => {
  const vs = violationsOf({
    "loop/newfolder/a.ts": 'import "../future.ts";',
    "loop/future.ts": "",
  });
  assertReported(vs, "layer", '"loop/newfolder/a.ts" is in no layer');
});

// ---- checkEdges: inside ffi/ -----------------------------------------------------

Deno.test("checkEdges: ffi/unix never imports ffi/linux or ffi/darwin", () => {
  const vs = violationsOf({
    "ffi/unix/libc.ts":
      'import "../linux/pidfd.ts";\nimport type { K } from "../darwin/kevent.ts";',
    "ffi/linux/pidfd.ts": "",
    "ffi/darwin/kevent.ts": "",
  });
  assertReported(vs, "ffi", "ffi/unix may not import ffi/linux");
  assertReported(vs, "ffi", "ffi/unix may not import ffi/darwin");
});

Deno.test("checkEdges: ffi/linux and ffi/darwin never import each other; windows and unix neither", () => {
  const vs = violationsOf({
    "ffi/linux/a.ts": 'import "../darwin/b.ts";',
    "ffi/darwin/b.ts": 'import "../linux/a.ts";',
    "ffi/windows/c.ts": 'import "../unix/d.ts";\nimport "../linux/a.ts";\nimport "../darwin/b.ts";',
    "ffi/unix/d.ts": 'import "../windows/c.ts";',
  });
  assertReported(vs, "ffi", "ffi/linux may not import ffi/darwin");
  assertReported(vs, "ffi", "ffi/darwin may not import ffi/linux");
  assertReported(vs, "ffi", "ffi/windows may not import ffi/unix");
  assertReported(vs, "ffi", "ffi/windows may not import ffi/linux");
  assertReported(vs, "ffi", "ffi/windows may not import ffi/darwin");
  assertReported(vs, "ffi", "ffi/unix may not import ffi/windows");
});

Deno.test("checkEdges: ffi/os_error.ts imports nothing; ffi/sys.ts only os_error and each family's mod.ts", () => {
  const vs = violationsOf({
    "ffi/os_error.ts": 'import type { E } from "./unix/errno.ts";',
    "ffi/unix/errno.ts": 'import "../sys.ts";',
    "ffi/unix/mod.ts": "",
    "ffi/linux/sys.ts": "",
    "ffi/sys.ts": 'import "./unix/errno.ts";\nimport "./linux/sys.ts";\nimport "./unix/mod.ts";',
  });
  assertReported(vs, "ffi", "ffi/os_error.ts imports nothing");
  assertReported(vs, "ffi", "ffi/unix may not import ffi/sys.ts");
  assertReported(
    vs,
    "ffi",
    "ffi/sys.ts imports only ffi/os_error.ts, ffi/unix/mod.ts, ffi/windows/seam.ts, not ffi/unix/errno.ts",
  );
  assertReported(vs, "ffi", "ffi/sys.ts may not import ffi/linux");
  assert(
    !vs.some((v) => v.line === 3 && v.file === "ffi/sys.ts"),
    "sys.ts → unix/mod.ts is allowed",
  );
});

Deno.test("checkEdges: outside ffi/, the seam is ffi/sys.ts and ffi/os_error.ts (O1)", () => {
  const tree = {
    "ffi/sys.ts": "",
    "ffi/os_error.ts": "",
    "ffi/unix/libc.ts": "",
    "ffi/darwin/sys.ts": "",
    "net/socket.ts":
      'import "../ffi/sys.ts";\nimport "../ffi/os_error.ts";\nimport "../ffi/unix/libc.ts";',
    "selectors/mod.ts":
      'export type { K } from "../ffi/darwin/sys.ts";\nexport { k } from "../ffi/darwin/sys.ts";',
    "selectors/poll_selector.ts": 'import "../ffi/unix/libc.ts";\nimport "../ffi/darwin/sys.ts";',
    "loop/unix/x.ts": 'import "../../ffi/unix/libc.ts";\nimport "../../ffi/darwin/sys.ts";',
  };
  const vs = violationsOf(tree);
  assertReported(vs, "seam", "net/socket.ts:3");
  assertReported(vs, "seam", "selectors/mod.ts:2"); // a value re-export: the exception is type-only
  assertReported(vs, "seam", "selectors/poll_selector.ts:2"); // poll is POSIX, not darwin
  assertEquals(vs.length, 3, vs.map(formatViolation).join("\n"));
  assertClean(violationsOf(tree, false).filter((v) => v.rule === "seam"));
});

// ---- checkEdges: resolving -------------------------------------------------------

Deno.test("checkEdges: bare specifiers and missing or unpublished files are reported", () => {
  const vs = violationsOf({
    "net/a.ts": [
      'import { assert } from "@std/assert";',
      'import fs from "node:fs";',
      'import { x } from "jsr:@std/path";',
      'import { y } from "npm:left-pad";',
      'import { z } from "https://deno.land/x/y.ts";',
      'import { run } from "@aio/loop";',
      'import "./missing.ts";',
      'import "./b";',
      'import "../tests/_assert.ts";',
      'import "../demo.ts";',
      'import "./b_test.ts";',
    ].join("\n"),
    "net/b.ts": "",
  });
  for (
    const s of [
      "@std/assert",
      "node:fs",
      "jsr:@std/path",
      "npm:left-pad",
      "https://deno.land/x/y.ts",
      "@aio/loop",
    ]
  ) {
    assertReported(vs, "resolve", `"${s}" is not relative`);
  }
  for (const p of ["net/missing.ts", "net/b", "tests/_assert.ts", "demo.ts", "net/b_test.ts"]) {
    assertReported(vs, "resolve", `resolves to "${p}"`);
  }
  assertEquals(vs.length, 11);
});

// ---- cycles --------------------------------------------------------------------

Deno.test("findCycles: a DAG has none, self-edges are not cycles", () => {
  const g = new Map([
    ["a", new Set(["a", "b", "c"])],
    ["b", new Set(["c"])],
    ["c", new Set<string>()],
  ]);
  assertEquals(findCycles(g), []);
});

Deno.test("findCycles: each cycle is reported as a closed path", () => {
  const g = new Map([
    ["a", new Set(["b"])],
    ["b", new Set(["c"])],
    ["c", new Set(["a", "d"])],
    ["d", new Set<string>()],
    ["x", new Set(["y"])],
    ["y", new Set(["x"])],
  ]);
  assertEquals(findCycles(g), [["a", "b", "c", "a"], ["x", "y", "x"]]);
});

Deno.test("checkCycles: a folder cycle is reported with the file edges", () => {
  const edges = edgesFrom({
    "net/a.ts": 'import "../transports/b.ts";',
    "transports/b.ts": 'import type { A } from "../net/a.ts";',
  });
  assertEquals(folderGraph(edges).get("net"), new Set(["transports"]));
  const vs = checkCycles(edges);
  assertEquals(vs.length, 1);
  assertStringIncludes(vs[0].message, "net → transports → net");
  assertStringIncludes(vs[0].message, "transports/b.ts:1 imports net/a.ts");
});

Deno.test("checkCycles: a cycle between parts of ffi/ is reported", () => {
  const vs = checkCycles(edgesFrom({
    "ffi/unix/a.ts": 'import "../_dlopen.ts";',
    "ffi/_dlopen.ts": 'import "./unix/a.ts";',
  }));
  assertEquals(vs.length, 1);
  assertStringIncludes(vs[0].message, "ffi/* → ffi/unix → ffi/*");
});

// ---- checkSource -------------------------------------------------------------------

Deno.test("checkSource: Deno.build.os in code is reported, in a comment or a string it is not", () => {
  const code =
    'if (Deno.build.os === "linux") {}\nconst { os } = Deno.build;\ntype O = typeof Deno . build\n  .os;';
  const vs = checkSource("selectors/x.ts", code);
  assertEquals(vs.map((v) => [v.rule, v.line]), [["os", 1], ["os", 2], ["os", 3]]);
  assertClean(checkSource(
    "selectors/x.ts",
    [
      "/**",
      " * @example",
      " * ```ts",
      ' * if (Deno.build.os !== "windows") console.log(1);',
      " * ```",
      " */",
      "// Deno.build.os",
      'const s = "Deno.build.os";',
      "const t = `Deno.build.os ${1}`;",
      "const arch = Deno.build.arch;",
    ].join("\n"),
  ));
  assertClean(checkSource("ffi/unix/_abi.ts", "export const OS = Deno.build.os;"));
  const allowed: SourceException[] = [{ file: "policy.ts", rule: "os", reason: "test" }];
  assertClean(checkSource("policy.ts", "Deno.build.os;", allowed));
  assertEquals(checkSource("streams/a.ts", "Deno.build.os;", allowed).length, 1);
});

Deno.test("checkSource: Deno.dlopen and the pointer API outside ffi/ are reported", () => {
  const src = [
    'const lib = Deno.dlopen("libc.so.6", {});',
    "const p = Deno.UnsafePointer.of(buf);",
    "const v = new Deno.UnsafePointerView(p);",
    "const cb = new Deno.UnsafeCallback(def, fn);",
    "const f = new Deno.UnsafeFnPointer(p, def);",
    "let q: Deno.PointerValue = null;",
    'const open = Deno["dlopen"];',
    "const D = Deno;",
    "// Deno.dlopen in a comment",
    "Deno.errors.NotFound;",
  ].join("\n");
  const vs = checkSource("net/x.ts", src);
  assertEquals(
    vs.map((v) => [v.rule, v.line]),
    [1, 2, 3, 4, 5, 6, 7, 8].map((l) => ["ffi-api", l]),
  );
  assertEquals(checkSource("ffi/unix/libc.ts", src).map((v) => v.line), [1]); // O3: only _dlopen.ts opens
  assertClean(checkSource("ffi/_dlopen.ts", src));
});

// ---- the real tree -------------------------------------------------------------------

const ROOT = new URL("../", import.meta.url);

async function walk(rel: string, out: string[]): Promise<void> {
  const info = await Deno.stat(new URL(rel, ROOT));
  if (info.isFile) {
    if (rel.endsWith(".ts") && !rel.endsWith("_test.ts")) out.push(rel);
    return;
  }
  for await (const e of Deno.readDir(new URL(rel, ROOT))) {
    if (e.isDirectory && SKIP_DIRS.has(e.name)) continue;
    await walk(`${rel}/${e.name}`, out);
  }
}

Deno.test("the published tree follows the layering rules", async () => {
  // The roots are the ones deno.json publishes (so a new top-level folder is not missed).
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const published = (config.publish.include as string[])
    .map((p) => p.replace(/\/$/, ""))
    .filter((p) => !["README.md", "LICENSE", "deno.json"].includes(p))
    .sort();
  assertEquals(published, [...ROOTS].sort(), "ROOTS must match deno.json publish.include");

  const files: string[] = [];
  for (const r of ROOTS) await walk(r, files);
  files.sort();
  const sources = new Map<string, string>();
  for (const f of files) sources.set(f, await Deno.readTextFile(new URL(f, ROOT)));

  const edges: Edge[] = [];
  const violations: Violation[] = [];
  for (const [f, src] of sources) {
    const imports = parseImports(src);
    // Cross-check the parser with an independent count on the literal-blanked text: every
    // `from "..."` and `import(` in code is one record.
    const { code } = lex(src);
    const expected = (code.match(/\bfrom\s*(["'`])\s*\1/g) ?? []).length +
      (code.match(/(?<![.\w$])import\s*\(/g) ?? []).length;
    assertEquals(
      imports.length,
      expected,
      `${f}: parsed ${imports.length} imports, counted ${expected}`,
    );
    edges.push(...edgesOf(f, imports));
    violations.push(...checkSource(f, src, SOURCE_EXCEPTIONS));
  }
  violations.push(
    ...checkEdges(edges, { files: new Set(files), seamExceptions: SEAM_EXCEPTIONS }),
    ...checkCycles(edges),
  );

  // Plausibility: the walk and the parser saw the tree.
  assertGreater(files.length, 100, `only ${files.length} files walked`);
  assertGreater(edges.length, 400, `only ${edges.length} import edges parsed`);
  assert(edges.some((e) => e.kind === "import-type"), "no type-only import parsed");
  assert(edges.some((e) => e.kind === "export"), "no re-export parsed");
  const layersSeen = new Set(files.map((f) => layerOf(f)?.name));
  for (
    const l of [
      "ffi",
      "selectors",
      "net",
      "transports",
      "loop",
      "loop/tasks",
      "loop/base",
      "loop/selector",
      "loop/unix",
      "policy.ts",
      "runner.ts",
      "streams",
      "mod.ts",
    ]
  ) {
    assert(layersSeen.has(l), `no file of layer ${l} walked`);
  }
  for (const f of ["ffi/sys.ts", "ffi/os_error.ts", "ffi/unix/mod.ts", "policy.ts"]) {
    assert(files.includes(f), `${f} not walked`);
  }
  // Every exception still matches something, so the lists cannot go stale.
  for (const x of SEAM_EXCEPTIONS) {
    assert(
      files.some((f) => x.path.endsWith("/") ? f.startsWith(x.path) : f === x.path),
      `seam exception ${x.path} names no file`,
    );
  }
  for (const x of SOURCE_EXCEPTIONS) {
    assert(files.includes(x.file), `source exception ${x.file} names no file`);
  }

  if (violations.length > 0) {
    fail(
      `${violations.length} layering violation(s) in ${files.length} files / ${edges.length} edges:\n` +
        violations.map((v) => "  " + formatViolation(v)).join("\n"),
    );
  }
});
