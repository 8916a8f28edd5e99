/**
 * `addSignalHandler()`/`removeSignalHandler()` over every selector, with real
 * signals sent through `Deno.kill(Deno.pid, ...)`. Sanitizers stay on: a
 * Deno signal listener left behind fails the test.
 */
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { validSignals } from "../loop/unix/mod.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { newLoop, SELECTORS } from "./_loops.ts";

const unix = Deno.build.os !== "windows";

/**
 * Resolves once `sig` reached a listener of our own (so any other listener ran
 * too). Signal listeners don't keep Deno's event loop alive: a timer does.
 */
function sentinel(sig: Deno.Signal): { seen: Promise<void>; remove(): void } {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const timer = setTimeout(() => reject(new Error(`${sig} never arrived`)), 5000);
  const listener = () => {
    clearTimeout(timer);
    resolve();
  };
  Deno.addSignalListener(sig, listener);
  return {
    seen: promise,
    remove: () => {
      clearTimeout(timer);
      Deno.removeSignalListener(sig, listener);
    },
  };
}

for (const c of SELECTORS) {
  Deno.test({
    name: `${c.name}: a signal handler runs on a parked loop, with its arguments`,
    ignore: !unix,
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = newLoop(c);
        const got: number[] = [];
        loop.addSignalHandler(
          "SIGUSR1",
          (a: number, b: number) => {
            got.push(a, b);
            loop.stop();
          },
          1,
          2,
        );
        // Nothing else is scheduled: the loop is parked in selectAsync() when the signal comes.
        const timer = setTimeout(() => Deno.kill(Deno.pid, "SIGUSR1"), 20);
        try {
          await loop.runForever();
        } finally {
          clearTimeout(timer);
        }
        assertEquals(got, [1, 2]);
        assert(loop.removeSignalHandler("SIGUSR1"));
      }),
  });

  Deno.test({
    name: `${c.name}: a new handler for a signal replaces the old one`,
    ignore: !unix,
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = newLoop(c);
        const calls: string[] = [];
        loop.addSignalHandler("SIGUSR2", () => calls.push("first"));
        loop.addSignalHandler("SIGUSR2", () => {
          calls.push("second");
          loop.stop();
        });
        setTimeout(() => Deno.kill(Deno.pid, "SIGUSR2"), 10);
        await loop.runForever();
        assertEquals(calls, ["second"]);
      }),
  });

  Deno.test({
    name: `${c.name}: closing the loop removes its signal handlers`,
    ignore: !unix,
    fn: () =>
      assertNoFdLeak(async () => {
        const loop = newLoop(c);
        let called = false;
        loop.addSignalHandler("SIGUSR1", () => called = true);
        loop.addSignalHandler("SIGUSR2", () => called = true);
        loop.close();
        // Were our listener still there, it would call callSoonThreadsafe() on a
        // closed loop and throw inside Deno's signal dispatch; the sanitizers would
        // also report the listener's pending op.
        const s = sentinel("SIGUSR1");
        try {
          Deno.kill(Deno.pid, "SIGUSR1");
          await s.seen;
        } finally {
          s.remove();
        }
        assertEquals(called, false);
        assertEquals(loop.removeSignalHandler("SIGUSR1"), false);
      }),
  });
}

Deno.test({
  name: "removeSignalHandler() returns whether a handler was there",
  ignore: !unix,
  fn() {
    using loop = newLoop(SELECTORS[0]);
    assertEquals(loop.removeSignalHandler("SIGUSR1"), false);
    loop.addSignalHandler("SIGUSR1", () => {});
    assertEquals(loop.removeSignalHandler("SIGUSR1"), true);
    assertEquals(loop.removeSignalHandler("SIGUSR1"), false);
  },
});

Deno.test({
  name: "a handler queued by a signal runs once the loop runs, like callSoonThreadsafe()",
  ignore: !unix,
  async fn() {
    using loop = newLoop(SELECTORS[1]);
    const order: string[] = [];
    loop.addSignalHandler("SIGHUP", () => order.push("signal"));
    const s = sentinel("SIGHUP");
    try {
      Deno.kill(Deno.pid, "SIGHUP");
      await s.seen; // our listener ran too: the callback is queued, not yet run
    } finally {
      s.remove();
    }
    assertEquals(order, []);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    assertEquals(order, ["signal"]);
  },
});

Deno.test({
  name: "addSignalHandler() refuses bad names with TypeError and RangeError",
  ignore: !unix,
  fn() {
    using loop = newLoop(SELECTORS[0]);
    const bad = loop as unknown as { addSignalHandler(s: unknown, cb: unknown): void };
    assertThrows(() => bad.addSignalHandler(10, () => {}), TypeError, "signal name");
    assertThrows(() => bad.addSignalHandler(undefined, () => {}), TypeError);
    const e = assertThrows(() => bad.addSignalHandler("SIGFOO", () => {}), RangeError, "SIGFOO");
    assertStringIncludes(e.message, "SIGUSR1"); // lists the valid ones
    assertThrows(() => bad.addSignalHandler("sigusr1", () => {}), RangeError);
    assertThrows(() => bad.addSignalHandler("toString", () => {}), RangeError);
    const badRemove = loop as unknown as { removeSignalHandler(s: unknown): boolean };
    assertThrows(() => badRemove.removeSignalHandler("SIGFOO"), RangeError);
    assertThrows(() => badRemove.removeSignalHandler(2), TypeError);
  },
});

Deno.test({
  name: "addSignalHandler() refuses SIGKILL and SIGSTOP: they cannot be caught",
  ignore: !unix,
  fn() {
    using loop = newLoop(SELECTORS[0]);
    assertThrows(
      () => loop.addSignalHandler("SIGKILL", () => {}),
      Deno.errors.NotSupported,
      "SIGKILL cannot be caught",
    );
    assertThrows(
      () => loop.addSignalHandler("SIGSTOP", () => {}),
      Deno.errors.NotSupported,
      "SIGSTOP cannot be caught",
    );
    assertThrows(() => loop.addSignalHandler("SIGSEGV", () => {}), Deno.errors.NotSupported);
  },
});

Deno.test({
  name: "addSignalHandler() refuses async functions and non-functions",
  ignore: !unix,
  fn() {
    using loop = newLoop(SELECTORS[0]);
    assertThrows(() => loop.addSignalHandler("SIGUSR1", async () => {}), TypeError, "coroutines");
    assertThrows(
      () => loop.addSignalHandler("SIGUSR1", async function named() {}),
      TypeError,
      "coroutines",
    );
    assertThrows(
      () => loop.addSignalHandler("SIGUSR1", async function* gen() {}),
      TypeError,
      "coroutines",
    );
    const bad = loop as unknown as { addSignalHandler(s: string, cb: unknown): void };
    assertThrows(() => bad.addSignalHandler("SIGUSR1", 42), TypeError, "callable");
    assertEquals(loop.removeSignalHandler("SIGUSR1"), false); // nothing was registered
  },
});

Deno.test({
  name: "addSignalHandler() on a closed loop throws",
  ignore: !unix,
  fn() {
    const loop = newLoop(SELECTORS[0]);
    loop.close();
    assertThrows(() => loop.addSignalHandler("SIGUSR1", () => {}), Error, "closed");
  },
});

Deno.test({
  name: "an error in a signal handler goes to the loop's exception handler",
  ignore: !unix,
  async fn() {
    using loop = newLoop(SELECTORS[1]);
    const seen: unknown[] = [];
    loop.setExceptionHandler((_l, ctx) => {
      seen.push(ctx.exception);
      loop.stop();
    });
    loop.addSignalHandler("SIGUSR2", () => {
      throw new Error("boom");
    });
    setTimeout(() => Deno.kill(Deno.pid, "SIGUSR2"), 10);
    await loop.runForever();
    assertEquals((seen[0] as Error).message, "boom");
  },
});

Deno.test({
  name: "validSignals() lists catchable signals of this OS only",
  ignore: !unix,
  fn() {
    const valid = validSignals();
    assert(valid.includes("SIGUSR1") && valid.includes("SIGINT") && valid.includes("SIGCHLD"));
    assert(!valid.includes("SIGKILL") && !valid.includes("SIGSTOP"));
    assertEquals(valid.includes("SIGINFO"), Deno.build.os === "darwin");
  },
});

Deno.test({
  name: "addSignalHandler() and removeSignalHandler() are NotSupported on Windows",
  ignore: unix,
  fn() {
    using loop = newLoop(SELECTORS[0]);
    assertThrows(
      () => loop.addSignalHandler("SIGINT", () => {}),
      Deno.errors.NotSupported,
      "Deno.addSignalListener",
    );
    assertThrows(() => loop.removeSignalHandler("SIGINT"), Deno.errors.NotSupported);
  },
});

Deno.test({
  name: "removeSignalHandler() returns false for SIGKILL and SIGSTOP, as asyncio",
  ignore: !unix,
  fn() {
    using loop = newLoop(SELECTORS[0]);
    // Valid signals that can have no handler: nothing to remove (asyncio returns False).
    assertEquals(loop.removeSignalHandler("SIGKILL"), false);
    assertEquals(loop.removeSignalHandler("SIGSTOP"), false);
    assertEquals(loop.removeSignalHandler("SIGSEGV"), false);
    // Setting one is still refused, and unknown names still throw.
    assertThrows(() => loop.addSignalHandler("SIGKILL", () => {}), Deno.errors.NotSupported);
    const badRemove = loop as unknown as { removeSignalHandler(s: unknown): boolean };
    assertThrows(() => badRemove.removeSignalHandler("SIGFOO"), RangeError, "SIGFOO");
    assertThrows(() => badRemove.removeSignalHandler(9), TypeError);
  },
});
