/**
 * The seed's platform table in code: what a loop kind lacks is refused by
 * `BaseEventLoop`'s defaults with `NotSupported` naming the method, the
 * loop, the platform and the alternative.
 */
import {
  assert,
  assertEquals,
  assertInstanceOf,
  AssertionError,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { BaseEventLoop, Protocol, SubprocessProtocol } from "../mod.ts";
import { featureOf, notSupported } from "../loop/_platform_table.ts";
import { CAPS, checkRefused, type LoopCase, LOOPS, missingCaps, REFUSABLE_CAPS } from "./_loops.ts";

// A loop kind with timers and callbacks only: every I/O hook refuses.
class BareLoop extends BaseEventLoop {
  protected _poll(): void {}
  protected _wait(): Promise<boolean> {
    return Promise.resolve(false);
  }
  protected _waitBriefly(): boolean {
    return false;
  }
  protected _wakeup(): void {}
  protected _makeSocketTransport(): never {
    throw new Error("unused");
  }
  protected _makeDatagramTransport(): never {
    throw new Error("unused");
  }
  protected _startServing(): void {}
  protected _stopServing(): void {}
  sockRecv(): never {
    throw new Error("unused");
  }
  sockRecvInto(): never {
    throw new Error("unused");
  }
  sockRecvfrom(): never {
    throw new Error("unused");
  }
  sockRecvfromInto(): never {
    throw new Error("unused");
  }
  sockSendall(): never {
    throw new Error("unused");
  }
  sockSendto(): never {
    throw new Error("unused");
  }
  sockConnect(): never {
    throw new Error("unused");
  }
  sockAccept(): never {
    throw new Error("unused");
  }
}

function checkMessage(e: unknown, method: string, alternative: string): void {
  assertInstanceOf(e, Deno.errors.NotSupported);
  assertStringIncludes(e.message, `${method}()`);
  assertStringIncludes(e.message, "BareLoop");
  assertStringIncludes(e.message, Deno.build.os);
  assertStringIncludes(e.message, alternative);
}

Deno.test("BaseEventLoop refuses readers and signal handlers a loop kind lacks, naming the alternative", () => {
  using loop = new BareLoop();
  const sync: [string, () => unknown, string][] = [
    ["addReader", () => loop.addReader(0, () => {}), "SelectorEventLoop"],
    ["removeReader", () => loop.removeReader(0), "SelectorEventLoop"],
    ["addWriter", () => loop.addWriter(1, () => {}), "sock*"],
    ["removeWriter", () => loop.removeWriter(1), "sock*"],
    ["addSignalHandler", () => loop.addSignalHandler("SIGUSR1", () => {}), "addSignalListener"],
    ["removeSignalHandler", () => loop.removeSignalHandler("SIGUSR1"), "addSignalListener"],
  ];
  for (const [method, call, alternative] of sync) {
    let thrown: unknown;
    try {
      call();
    } catch (e) {
      thrown = e;
    }
    assert(thrown !== undefined, `${method}() did not throw`);
    checkMessage(thrown, method, alternative);
  }
});

Deno.test("BaseEventLoop rejects unix sockets, pipes and subprocesses a loop kind lacks", async () => {
  using loop = new BareLoop();
  const calls: [string, () => Promise<unknown>, string][] = [
    ["createUnixConnection", () => loop.createUnixConnection(() => new Protocol(), "/x"), "TCP"],
    ["createUnixServer", () => loop.createUnixServer(() => new Protocol(), "/x"), "named pipes"],
    ["connectReadPipe", () => loop.connectReadPipe(() => new Protocol(), 0), "ProactorEventLoop"],
    ["connectWritePipe", () => loop.connectWritePipe(() => new Protocol(), 1), "ProactorEventLoop"],
    [
      "subprocessExec",
      () => loop.subprocessExec(() => new SubprocessProtocol(), ["true"]),
      "Deno.Command",
    ],
    [
      "subprocessShell",
      () => loop.subprocessShell(() => new SubprocessProtocol(), "true"),
      "Deno.Command",
    ],
  ];
  for (const [method, call, alternative] of calls) {
    const e = await assertRejects(call);
    checkMessage(e, method, alternative);
  }
});

Deno.test("the platform table knows every refused method and builds one message shape", () => {
  for (
    const m of [
      "createUnixConnection",
      "startUnixServer",
      "connectWritePipe",
      "createSubprocessShell",
      "addWriter",
      "setChildWatcher",
    ]
  ) {
    assert(featureOf(m) !== undefined, m);
  }
  assert(featureOf("callSoon") === undefined);
  const e = notSupported("subprocessExec", "WindowsSelectorEventLoop");
  assertStringIncludes(
    e.message,
    `subprocessExec() is not supported by WindowsSelectorEventLoop on ${Deno.build.os}: `,
  );
  assertStringIncludes(notSupported("frob", "X", "try Y").message, ": try Y");
});

// The LOOPS matrix's stand-in for a test a loop lacks a capability for: on a loop kind that
// refuses, checkRefused() passes; on one that has the capability, it fails.
Deno.test("LOOPS: checkRefused() accepts a loop kind's platform-table refusals and nothing else", async () => {
  const caps = {
    readers: false,
    unixSockets: false,
    pipes: false,
    subprocesses: false,
    signals: false,
    childWatchers: true,
    highFds: true,
    selector: false,
    unixFds: true,
  };
  const bare: LoopCase = { name: "BareLoop", tag: "BareLoop", make: () => new BareLoop(), caps };
  const lacking = CAPS.filter((c) => !caps[c] && REFUSABLE_CAPS.includes(c));
  assertEquals(lacking, ["readers", "unixSockets", "pipes", "subprocesses", "signals"]);
  assertEquals(missingCaps(bare, ["readers", "highFds", "selector"]), ["readers", "selector"]);
  await checkRefused(bare, lacking);
  // A loop that has the capabilities does not refuse, so the stand-in would fail there (checked
  // for the synchronous methods: the others would wait for a loop that is not running); on a
  // loop that lacks one (Windows: signals) the stand-in passes.
  for (const cap of ["readers", "signals"] as const) {
    if (LOOPS[0].caps[cap]) {
      await assertRejects(() => checkRefused(LOOPS[0], [cap]), AssertionError);
    } else {
      await checkRefused(LOOPS[0], [cap]);
    }
  }
  assert(LOOPS[0].caps.readers, `${LOOPS[0].name} has readers`);
});
