// Tasks run async functions; some have nothing to await.
// deno-lint-ignore-file require-await
import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertMatch,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  BaseEventLoop,
  type ExceptionContext,
  getRunningLoop,
  Handle,
  SelectorEventLoop,
  TimerHandle,
} from "../mod.ts";
import { TimerHeap } from "../loop/base/_heap.ts";
import { countFds } from "./_fd_leak.ts";
import { captureConsole, forEachLoop, selectorOf } from "./_loops.ts";

forEachLoop([], (lc, test) => {
  const L = lc.name;

  test(`${L}.callSoon() runs callbacks FIFO with their args`, async () => {
    using loop = lc.make();
    const seen: unknown[] = [];
    const h = loop.callSoon((a: number, b: string) => seen.push([a, b]), 1, "x");
    assertInstanceOf(h, Handle);
    loop.callSoon(() => seen.push("none"));
    loop.callSoon(
      (a: number, b: number, c: number, d: number) => seen.push(a + b + c + d),
      1,
      2,
      3,
      4,
    );
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    assertEquals(seen, [[1, "x"], "none", 10]);
  });

  test(`${L}.callSoon() returns a Handle whose cancel() keeps it from running`, async () => {
    using loop = lc.make();
    let ran = false;
    const h = loop.callSoon(() => ran = true);
    h.cancel();
    assert(h.cancelled());
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    assertEquals(ran, false);
  });

  test(`${L}.callSoon() from a callback runs on the next iteration, after stop()`, async () => {
    using loop = lc.make();
    const seen: string[] = [];
    loop.callSoon(() => {
      seen.push("a");
      loop.callSoon(() => seen.push("c"));
      loop.stop();
    });
    loop.callSoon(() => seen.push("b"));
    await loop.runForever();
    assertEquals(seen, ["a", "b"]);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    assertEquals(seen, ["a", "b", "c"]);
  });

  test(`${L}.stop() before runForever() runs one iteration`, async () => {
    using loop = lc.make();
    const seen: number[] = [];
    loop.callSoon(() => {
      seen.push(1);
      loop.callSoon(() => seen.push(2));
    });
    loop.stop();
    await loop.runForever();
    assertEquals(seen, [1]);
    assertEquals(loop.isRunning(), false);
  });

  test(`${L}.callLater() runs timers in time order`, async () => {
    using loop = lc.make();
    const seen: number[] = [];
    loop.callLater(30, () => {
      seen.push(30);
      loop.stop();
    });
    loop.callLater(10, () => seen.push(10));
    loop.callLater(0, () => seen.push(0));
    loop.callLater(20, () => seen.push(20));
    await loop.runForever();
    assertEquals(seen, [0, 10, 20, 30]);
  });

  test(`${L}.callLater() keeps the order of equal times`, async () => {
    using loop = lc.make();
    const seen: number[] = [];
    const when = loop.time() + 5;
    for (let i = 0; i < 50; i++) loop.callAt(when, (n: number) => seen.push(n), i);
    loop.callAt(when, () => loop.stop());
    await loop.runForever();
    assertEquals(seen, Array.from({ length: 50 }, (_, i) => i));
  });

  test(`${L}.callLater() returns a TimerHandle with when()`, () => {
    let now = 1000;
    using loop = lc.make({ clock: () => now });
    const t = loop.callLater(250, () => {});
    assertInstanceOf(t, TimerHandle);
    assertEquals(t.when(), 1250);
    now = 2000;
    assertEquals(loop.callAt(5, () => {}).when(), 5);
    assertEquals(loop.time(), 2000);
  });

  test(`${L} runs timers on an injected clock without waiting`, async () => {
    let now = 0;
    using loop = lc.make({ clock: () => now });
    const seen: string[] = [];
    loop.callLater(60_000, () => {
      seen.push("minute");
      loop.stop();
    });
    loop.callLater(1_000, () => seen.push("second"));
    loop.callSoon(() => now += 1_000);
    loop.callLater(1_000, () => now += 60_000);
    await loop.runForever();
    assertEquals(seen, ["second", "minute"]);
  });

  test(`${L}: a timer cancelled by an earlier one of its batch does not run`, async () => {
    let now = 0;
    using loop = lc.make({ clock: () => now });
    const seen: string[] = [];
    let second: TimerHandle | undefined = undefined;
    loop.callLater(10, () => {
      seen.push("first");
      second!.cancel();
    });
    second = loop.callLater(11, () => seen.push("second"));
    loop.callLater(12, () => {
      seen.push("third");
      loop.stop();
    });
    now = 100; // all three due in one batch
    await loop.runForever();
    assertEquals(seen, ["first", "third"]);
  });

  test(`${L}.callLater() skips cancelled timers`, async () => {
    using loop = lc.make();
    const seen: number[] = [];
    const timers = Array.from({ length: 300 }, (_, i) => loop.callLater(i % 7, () => seen.push(i)));
    for (let i = 0; i < 300; i += 3) timers[i].cancel();
    loop.callLater(10, () => loop.stop());
    await loop.runForever();
    assertEquals(seen.length, 200);
    assert(seen.every((i) => i % 3 !== 0));
  });

  test(`${L} refuses bad callbacks and times at once`, () => {
    using loop = lc.make();
    // deno-lint-ignore no-explicit-any
    const l = loop as any;
    assertThrows(() => l.callSoon(42), TypeError, "callSoon");
    assertThrows(() => l.callSoon(null), TypeError);
    assertThrows(() => l.callSoonThreadsafe("x"), TypeError);
    assertThrows(() => l.callLater(10, 42), TypeError);
    assertThrows(() => l.callLater(-1, () => {}), RangeError);
    assertThrows(() => l.callLater(NaN, () => {}), RangeError);
    assertThrows(() => l.callLater("5", () => {}), TypeError);
    assertThrows(() => l.callAt(NaN, () => {}), RangeError);
    assertThrows(() => l.callAt(undefined, () => {}), TypeError);
    assertThrows(() => l.setExceptionHandler(42), TypeError);
    // The delay or time is checked before the callback, as before the one-test fast path.
    assertThrows(() => l.callLater(-1, 42), RangeError, "delay");
    assertThrows(() => l.callLater(5n, () => {}), TypeError, "delay");
    assertThrows(() => l.callLater(Symbol(), 42), TypeError, "delay");
    assertThrows(() => l.callAt("5", 42), TypeError, "when");
    assertThrows(() => l.callAt(5, 42), TypeError, "callAt");
    // Infinite times are accepted: a timer that never fires, or one due at once.
    const never = loop.callLater(Infinity, () => {});
    assertEquals(never.when(), Infinity);
    never.cancel();
    assertEquals(loop.callAt(-Infinity, () => {}).when(), -Infinity);
    assertEquals(loop.callLater(0, () => {}).when() <= loop.time(), true);
  });

  test(`${L}.time() is monotonic and clockResolution is a positive number`, () => {
    using loop = lc.make();
    const a = loop.time();
    const b = loop.time();
    assert(b >= a);
    assertEquals(typeof loop.clockResolution, "number");
    assertGreater(loop.clockResolution, 0);
  });

  test(`${L}.runForever() refuses to run twice`, async () => {
    using loop = lc.make();
    const first = loop.runForever();
    assert(loop.isRunning());
    await assertRejects(() => loop.runForever(), Error, "already running");
    await assertRejects(() => loop.runUntilComplete(Promise.resolve(1)), Error, "already running");
    assertThrows(() => loop.close(), Error, "Cannot close a running event loop");
    loop.stop();
    await first;
    assertEquals(loop.isRunning(), false);
  });

  test(`${L} refuses scheduling and running once closed`, async () => {
    const loop = lc.make();
    loop.close();
    assert(loop.isClosed());
    loop.close(); // twice is fine
    assertThrows(() => loop.callSoon(() => {}), Error, "Event loop is closed");
    assertThrows(() => loop.callLater(1, () => {}), Error, "Event loop is closed");
    assertThrows(() => loop.callAt(1, () => {}), Error, "Event loop is closed");
    assertThrows(() => loop.createTask(async () => {}), Error, "Event loop is closed");
    await assertRejects(() => loop.runForever(), Error, "Event loop is closed");
    await assertRejects(
      () => loop.runUntilComplete(Promise.resolve()),
      Error,
      "Event loop is closed",
    );
  });

  test(`${L}.close() releases the selector and its wakeup fds`, () => {
    const before = countFds();
    const loop = lc.make();
    loop.close();
    assertEquals(countFds(), before);
    {
      using _disposed = lc.make();
    }
    assertEquals(countFds(), before);
  });

  test(`${L}.runUntilComplete() returns the result of a Future, a promise or a function`, async () => {
    using loop = lc.make();
    const fut = loop.createFuture<number>();
    loop.callLater(1, () => fut.setResult(7));
    assertEquals(await loop.runUntilComplete(fut), 7);
    assertEquals(await loop.runUntilComplete(Promise.resolve("p")), "p");
    assertEquals(await loop.runUntilComplete(async () => "f"), "f");
    assertEquals(loop.isRunning(), false);
  });

  test(`${L}.runUntilComplete() throws the exception of the future`, async () => {
    using loop = lc.make();
    await assertRejects(
      () => loop.runUntilComplete(Promise.reject(new RangeError("bad"))),
      RangeError,
      "bad",
    );
    await assertRejects(() =>
      loop.runUntilComplete(async () => {
        throw new SyntaxError("worse");
      }), SyntaxError);
  });

  test(`${L}.runUntilComplete() throws when the loop stops first`, async () => {
    using loop = lc.make();
    const fut = loop.createFuture();
    loop.callSoon(() => loop.stop());
    await assertRejects(
      () => loop.runUntilComplete(fut),
      Error,
      "Event loop stopped before Future completed.",
    );
  });

  test(`${L}.runUntilComplete() refuses a future of another loop`, async () => {
    using loop = lc.make();
    using other = lc.make();
    await assertRejects(() => loop.runUntilComplete(other.createFuture()), Error, "different loop");
  });

  test(`${L} gives the running loop to getRunningLoop(), only while running`, async () => {
    using loop = lc.make();
    assertThrows(() => getRunningLoop(), Error, "no running event loop");
    let seen: unknown = null;
    loop.callSoon(() => {
      seen = getRunningLoop();
      loop.stop();
    });
    await loop.runForever();
    assertStrictEquals(seen, loop);
    assertThrows(() => getRunningLoop(), Error, "no running event loop");
  });

  test(`${L} refuses to run while another loop runs`, async () => {
    using loop = lc.make();
    using other = lc.make();
    const first = loop.runForever();
    await assertRejects(() => other.runForever(), Error, "another loop is running");
    loop.stop();
    await first;
  });

  test(`${L} sends a throwing callback to the exception handler and keeps running`, async () => {
    using loop = lc.make();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((l, ctx) => {
      assertStrictEquals(l, loop);
      contexts.push(ctx);
    });
    const err = new Error("boom");
    const h = loop.callSoon(function explode() {
      throw err;
    });
    let after = false;
    loop.callSoon(() => after = true);
    loop.callLater(1, async function rejects() {
      await null;
      throw new TypeError("async boom");
    });
    loop.callLater(5, () => loop.stop());
    await loop.runForever();
    assert(after);
    assertEquals(contexts.length, 2);
    assertStrictEquals(contexts[0].exception, err);
    assertStrictEquals(contexts[0].handle, h);
    assertMatch(contexts[0].message, /^Exception in callback explode\(\)/);
    assertInstanceOf(contexts[1].exception, TypeError);
    assertStringIncludes(contexts[1].message, "rejects");
  });

  test(`${L}.getExceptionHandler() returns what was set; null restores the default`, () => {
    using loop = lc.make();
    assertEquals(loop.getExceptionHandler(), null);
    const handler = () => {};
    loop.setExceptionHandler(handler);
    assertStrictEquals(loop.getExceptionHandler(), handler);
    loop.setExceptionHandler(null);
    assertEquals(loop.getExceptionHandler(), null);
  });

  test(`${L}.defaultExceptionHandler() reports through console.error`, async () => {
    using loop = lc.make();
    const err = new Error("lost");
    const calls = await captureConsole("error", () => {
      loop.callExceptionHandler({ message: "Something failed", exception: err, extra: 42 });
    });
    assertEquals(calls.length, 1);
    assertStringIncludes(String(calls[0][0]), "Something failed");
    assertStringIncludes(String(calls[0][0]), "extra: 42");
    assertStrictEquals(calls[0][1], err);
  });

  test(`${L}.callExceptionHandler() reports a handler that throws with the default handler`, async () => {
    using loop = lc.make();
    loop.setExceptionHandler(() => {
      throw new Error("handler broke");
    });
    const calls = await captureConsole("error", () => {
      loop.callExceptionHandler({ message: "original" });
    });
    assertEquals(calls.length, 1);
    assertStringIncludes(String(calls[0][0]), "Unhandled error in exception handler");
    assertEquals((calls[0][1] as Error).message, "handler broke");
  });

  test(`${L} in debug mode warns about slow callbacks and records handle origins`, async () => {
    let now = 0;
    using loop = lc.make({ debug: true, clock: () => now });
    assert(loop.getDebug());
    assertEquals(loop.slowCallbackDuration, 100);
    const fast = loop.callSoon(function fast() {
      now += 10;
    });
    assertStringIncludes(fast.sourceTraceback ?? "", "event_loop_test.ts");
    loop.callSoon(function slow() {
      now += 250;
    });
    loop.callSoon(() => loop.stop());
    const calls = await captureConsole("warn", () => loop.runForever());
    assertEquals(calls.length, 1);
    assertMatch(String(calls[0][0]), /Executing <Handle slow\(\)> took 250\.000 ms/);
    loop.setDebug(false);
    assertEquals(loop.callSoon(() => {}).sourceTraceback, null);
  });

  test(`${L}.callSoonThreadsafe() from a Deno timer wakes the parked loop`, async () => {
    using loop = lc.make();
    const far = loop.callLater(60_000, () => {});
    let ran = 0;
    setTimeout(() =>
      loop.callSoonThreadsafe(() => {
        ran++;
        loop.stop();
      }), 5);
    await loop.runForever();
    assertEquals(ran, 1);
    assertEquals(far.cancelled(), false);
    far.cancel();
  });

  test(`${L} is an instance of BaseEventLoop with a selector`, ["selector"], () => {
    using loop = lc.make();
    assert(loop instanceof BaseEventLoop);
    assertInstanceOf(loop, SelectorEventLoop);
    assertEquals(typeof selectorOf(loop).select, "function");
  });
});

Deno.test("SelectorEventLoop() defaults to DefaultSelector", () => {
  using loop = new SelectorEventLoop();
  assertEquals(loop.selector.constructor.name.endsWith("Selector"), true);
});

/** Pops what `heap` has due before `end`, as the loop does: cancelled handles are left out. */
function popDue(heap: TimerHeap, end: number): TimerHandle[] {
  const out: (Handle | undefined)[] = [];
  const n = heap.popDue(end, out, 0);
  return out.slice(0, n) as TimerHandle[];
}

// Handles hold only private fields, so assertEquals() can't tell two apart: compare names.
const handleIds = new WeakMap<Handle, number>();
let nextHandleId = 0;
function ids(handles: Handle[]): number[] {
  return handles.map((h) => {
    let id = handleIds.get(h);
    if (id === undefined) handleIds.set(h, id = nextHandleId++);
    return id;
  });
}

Deno.test("TimerHeap purges cancelled timers when they are more than half of over 100", () => {
  using loop = new SelectorEventLoop();
  const heap = new TimerHeap();
  const handles = Array.from({ length: 200 }, (_, i) => new TimerHandle(i, () => {}, { loop }));
  for (const h of handles) heap.push(h);
  for (let i = 199; i >= 100; i--) handles[i].cancel(); // not at the top: kept lazily
  assertEquals(heap.cancelledCount, 100);
  heap.prune();
  assertEquals(heap.size, 200); // exactly half: CPython keeps them
  handles[99].cancel();
  heap.prune();
  assertEquals(heap.size, 99);
  assertEquals(heap.cancelledCount, 0);
  assertEquals(
    popDue(heap, Infinity).map((h) => h.when()),
    Array.from({ length: 99 }, (_, i) => i),
  );
});

Deno.test("TimerHeap drops cancelled timers from the top in small heaps", () => {
  using loop = new SelectorEventLoop();
  const heap = new TimerHeap();
  const handles = Array.from({ length: 10 }, (_, i) => new TimerHandle(i, () => {}, { loop }));
  for (const h of handles) heap.push(h);
  handles[0].cancel();
  handles[1].cancel();
  handles[5].cancel();
  heap.prune();
  assertEquals(heap.size, 8);
  assertEquals(heap.peekWhen(), 2);
  assertEquals(heap.cancelledCount, 1);
});

Deno.test("TimerHeap keeps insertion order for equal times", () => {
  using loop = new SelectorEventLoop();
  const heap = new TimerHeap();
  const hs = Array.from({ length: 1000 }, (_, i) => new TimerHandle(i % 3, () => {}, { loop }));
  for (const h of hs) heap.push(h);
  const out = popDue(heap, Infinity);
  const expected = [...hs].sort((a, b) => a.when() - b.when()); // stable sort
  assertEquals(out.map((h) => hs.indexOf(h)), expected.map((h) => hs.indexOf(h)));
});

Deno.test("TimerHeap counts only cancels of handles it still holds", () => {
  using loop = new SelectorEventLoop();
  const heap = new TimerHeap();
  const hs = Array.from({ length: 10 }, (_, i) => new TimerHandle(i, () => {}, { loop }));
  for (const h of hs) heap.push(h);
  hs[7].cancel();
  assertEquals(heap.cancelledCount, 1);
  assertEquals(ids(popDue(heap, 5)), ids(hs.slice(0, 5)));
  for (const h of hs.slice(0, 5)) h.cancel(); // popped: no longer the heap's
  assertEquals([heap.size, heap.cancelledCount], [5, 1]);
  assertEquals(ids(popDue(heap, Infinity)), ids([hs[5], hs[6], hs[8], hs[9]]));
  assertEquals([heap.size, heap.cancelledCount], [0, 0]);
});

Deno.test("TimerHeap stays exact in big heaps: ties, Infinity, purges, growth, clear", () => {
  using loop = new SelectorEventLoop();
  let seed = 777;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const whenOf = (r: number) =>
    r < 0.3 ? Math.floor(rand() * 20) : r < 0.35 ? Infinity : r < 0.4 ? -rand() : rand() * 1000;
  for (let round = 0; round < 6; round++) {
    // Even rounds grow deep heaps (up to ~2,000); odd ones cancel enough to purge.
    const [pPush, pCancel, pClear] = round % 2 === 0 ? [0.85, 0.88, 0.0003] : [0.6, 0.8, 0.005];
    const heap = new TimerHeap();
    const live: Array<{ when: number; seq: number; h: TimerHandle }> = [];
    let seq = 0;
    for (let step = 0; step < 6000; step++) {
      const r = rand();
      if (r < pPush) {
        const when = whenOf(rand());
        const h = new TimerHandle(when, () => {}, { loop });
        heap.push(h);
        live.push({ when, seq: seq++, h });
      } else if (r < pCancel && live.length > 0) {
        // Cancel a run of them, so that purges happen too.
        for (let k = 0; k < 3 && live.length > 0; k++) {
          const i = Math.floor(rand() * live.length);
          live[i].h.cancel();
          live.splice(i, 1);
        }
      } else if (r < 1 - pClear) {
        heap.prune();
        live.sort((a, b) => a.when - b.when || a.seq - b.seq);
        if (rand() < 0.5) {
          // Up to about the k-th earliest, ties and all; now and then anything.
          const k = Math.floor(rand() * Math.min(live.length, 8));
          const end = live.length === 0 || rand() < 0.02
            ? whenOf(rand()) + 1
            : live[k].when + (rand() < 0.5 ? 0 : 0.5);
          const want = [];
          while (live.length > 0 && live[0].when < end) want.push(live.shift()!.h);
          assertEquals(ids(popDue(heap, end)), ids(want));
          assertEquals(popDue(heap, -Infinity), []);
        } else if (heap.size > 0) {
          const top = heap.pop();
          if (!top.cancelled()) assertStrictEquals(top, live.shift()!.h);
        }
        assertEquals(heap.size - heap.cancelledCount, live.length);
        assertEquals(heap.peekWhen() <= (live[0]?.when ?? Infinity), true);
      } else {
        heap.clear();
        live.length = 0;
        assertEquals([heap.size, heap.cancelledCount, heap.peekWhen()], [0, 0, Infinity]);
      }
    }
    live.sort((a, b) => a.when - b.when || a.seq - b.seq);
    heap.prune();
    assertEquals(
      ids(popDue(heap, Infinity)),
      ids(live.filter((e) => e.when < Infinity).map((e) => e.h)),
    );
    assertEquals(heap.size - heap.cancelledCount, live.filter((e) => e.when === Infinity).length);
  }
});

Deno.test("TimerHeap matches a sorted list over random pushes, cancels, prunes and pops", () => {
  using loop = new SelectorEventLoop();
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 20; round++) {
    const heap = new TimerHeap();
    const live: Array<{ when: number; seq: number; h: TimerHandle }> = [];
    let seq = 0;
    for (let step = 0; step < 2000; step++) {
      const r = rand();
      if (r < 0.55) {
        const when = Math.floor(rand() * 50); // many equal times
        const h = new TimerHandle(when, () => {}, { loop });
        heap.push(h);
        live.push({ when, seq: seq++, h });
      } else if (r < 0.75 && live.length > 0) {
        const i = Math.floor(rand() * live.length);
        live[i].h.cancel();
        live.splice(i, 1);
      } else if (r < 0.85) {
        heap.prune();
      } else {
        heap.prune(); // as the loop does before popping
        live.sort((a, b) => a.when - b.when || a.seq - b.seq);
        const end = Math.floor(rand() * 50);
        const got = popDue(heap, end);
        const want = [];
        while (live.length > 0 && live[0].when < end) want.push(live.shift()!.h);
        assertEquals(ids(got), ids(want));
      }
    }
    assertEquals(heap.size - heap.cancelledCount, live.length);
  }
});
