/**
 * `addSignalHandler()`/`removeSignalHandler()` on every loop of LOOPS with
 * the `signals` capability, with real signals sent through
 * `Deno.kill(Deno.pid, ...)`. Sanitizers stay on: a Deno signal listener left
 * behind fails the test.
 */
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { validSignals } from "../loop/unix/mod.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { forEachLoop, forOneLoop } from "./_loops.ts";

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

forEachLoop(["signals"], (lc, test) => {
  test({
    name: `${lc.tag}: a signal handler runs on a parked loop, with its arguments`,
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
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

  test({
    name: `${lc.tag}: a new handler for a signal replaces the old one`,
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
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

  test({
    name: `${lc.tag}: closing the loop removes its signal handlers`,
    fn: () =>
      assertNoFdLeak(async () => {
        const loop = lc.make();
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
});

forOneLoop(["signals"], (lc, test) => {
  test({
    name: "removeSignalHandler() returns whether a handler was there",
    fn() {
      using loop = lc.make();
      assertEquals(loop.removeSignalHandler("SIGUSR1"), false);
      loop.addSignalHandler("SIGUSR1", () => {});
      assertEquals(loop.removeSignalHandler("SIGUSR1"), true);
      assertEquals(loop.removeSignalHandler("SIGUSR1"), false);
    },
  });

  test({
    name: "addSignalHandler() refuses bad names with TypeError and RangeError",
    fn() {
      using loop = lc.make();
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

  test({
    name: "addSignalHandler() refuses SIGKILL and SIGSTOP: they cannot be caught",
    fn() {
      using loop = lc.make();
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

  test({
    name: "addSignalHandler() refuses async functions and non-functions",
    fn() {
      using loop = lc.make();
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

  test({
    name: "addSignalHandler() on a closed loop throws",
    fn() {
      const loop = lc.make();
      loop.close();
      assertThrows(() => loop.addSignalHandler("SIGUSR1", () => {}), Error, "closed");
    },
  });

  test({
    name: "removeSignalHandler() returns false for SIGKILL and SIGSTOP, as asyncio",
    fn() {
      using loop = lc.make();
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
});

forOneLoop(["signals"], (lc, test) => {
  test({
    name: "a handler queued by a signal runs once the loop runs, like callSoonThreadsafe()",
    async fn() {
      using loop = lc.make();
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

  test({
    name: "an error in a signal handler goes to the loop's exception handler",
    async fn() {
      using loop = lc.make();
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
}, 1);

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

forOneLoop([], (lc, test) => {
  test({
    name: "addSignalHandler() and removeSignalHandler() are NotSupported on Windows",
    ignore: unix,
    fn() {
      using loop = lc.make();
      assertThrows(
        () => loop.addSignalHandler("SIGINT", () => {}),
        Deno.errors.NotSupported,
        "Deno.addSignalListener",
      );
      assertThrows(() => loop.removeSignalHandler("SIGINT"), Deno.errors.NotSupported);
    },
  });
});
