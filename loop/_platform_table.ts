/**
 * The seed's platform table as data: what a loop kind lacks, and the
 * alternative each refusal names. Every `NotSupported` for a missing loop
 * feature is built here, so they all read the same.
 *
 * @module
 */
import { PLATFORM } from "../ffi/sys.ts";

/** A loop feature some loop kinds or platforms lack. */
export type LoopFeature =
  | "unixSockets"
  | "signals"
  | "pipes"
  | "subprocesses"
  | "readers"
  | "childWatchers";

const METHODS: Record<LoopFeature, readonly string[]> = {
  unixSockets: [
    "createUnixConnection",
    "createUnixServer",
    "openUnixConnection",
    "startUnixServer",
  ],
  signals: ["addSignalHandler", "removeSignalHandler"],
  pipes: ["connectReadPipe", "connectWritePipe"],
  subprocesses: [
    "subprocessExec",
    "subprocessShell",
    "createSubprocessExec",
    "createSubprocessShell",
  ],
  readers: ["addReader", "removeReader", "addWriter", "removeWriter"],
  childWatchers: ["getChildWatcher", "setChildWatcher", "defaultChildWatcher"],
};

const ALTERNATIVE: Record<LoopFeature, string> = {
  unixSockets: "use TCP on loopback (createConnection/createServer), " +
    "or named pipes on the ProactorEventLoop",
  signals: 'use Deno.addSignalListener("SIGINT") (or "SIGBREAK" on Windows)',
  pipes: "use the ProactorEventLoop on Windows, or the SelectorEventLoop elsewhere",
  subprocesses: "use the ProactorEventLoop on Windows, or Deno.Command",
  readers: "use a SelectorEventLoop, or the loop's sock* methods",
  childWatchers: "the ProactorEventLoop waits for its child processes by handle, " +
    "with no child watcher to choose",
};

// Where a loop kind will have a feature but does not yet, its own alternative (none today).
const NOT_YET: Readonly<Record<string, Partial<Record<LoopFeature, string>>>> = {};

/** The feature `method` belongs to, or `undefined`. */
export function featureOf(method: string): LoopFeature | undefined {
  for (const f of Object.keys(METHODS) as LoopFeature[]) {
    if (METHODS[f].includes(method)) return f;
  }
  return undefined;
}

/**
 * The `NotSupported` error for `method()` on `loop` (a loop, or a loop
 * class name): names the method, the loop, the platform and the alternative.
 */
export function notSupported(
  method: string,
  loop: object | string,
  alternative?: string,
): Deno.errors.NotSupported {
  const name = typeof loop === "string" ? loop : loop.constructor.name;
  const feature = featureOf(method);
  const alt = alternative ??
    (feature === undefined ? "" : NOT_YET[name]?.[feature] ?? ALTERNATIVE[feature]);
  return new Deno.errors.NotSupported(
    `${method}() is not supported by ${name} on ${PLATFORM}${alt === "" ? "" : `: ${alt}`}`,
  );
}
