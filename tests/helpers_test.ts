// Tasks run async functions; some have nothing to await.
// deno-lint-ignore-file require-await
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import {
  CancelledError,
  gather,
  SelectorEventLoop,
  shield,
  sleep,
  timeout,
  TimeoutError,
  waitFor,
} from "../mod.ts";

Deno.test("sleep() resolves to its value after the delay, in time order", async () => {
  using loop = new SelectorEventLoop();
  const seen: string[] = [];
  await loop.runUntilComplete(async () => {
    const a = sleep(20, { value: "late" }).then((v) => seen.push(v));
    const b = sleep(5, { value: "early" }).then((v) => seen.push(v));
    await Promise.all([a, b]);
  });
  assertEquals(seen, ["early", "late"]);
});

Deno.test("sleep() is cancelled by its signal and refuses bad delays", async () => {
  using loop = new SelectorEventLoop();
  await loop.runUntilComplete(async () => {
    const ac = new AbortController();
    const s = sleep(60_000, { signal: ac.signal });
    ac.abort();
    await assertRejects(async () => await s, CancelledError);
    assert(s.cancelled());
    const pre = sleep(1, { signal: AbortSignal.abort() });
    assert(pre.cancelled());
    assertThrows(() => sleep(-1), RangeError);
    assertThrows(() => sleep(NaN), RangeError);
    // deno-lint-ignore no-explicit-any
    assertThrows(() => sleep("1" as any), TypeError);
  });
  assertThrows(() => sleep(1), Error, "no running event loop");
});

Deno.test("waitFor() returns the result before the deadline", async () => {
  using loop = new SelectorEventLoop();
  const v = await loop.runUntilComplete(() => waitFor(sleep(1, { value: 9 }), 60_000));
  assertEquals(v, 9);
  assertEquals(await loop.runUntilComplete(() => waitFor(Promise.resolve(3), null)), 3);
});

Deno.test("waitFor() cancels the operation and throws TimeoutError at the deadline", async () => {
  using loop = new SelectorEventLoop();
  let aborted = false;
  await loop.runUntilComplete(async () => {
    const e = await assertRejects(
      () =>
        waitFor(async (signal) => {
          signal.addEventListener("abort", () => aborted = true);
          await sleep(60_000, { signal });
        }, 5),
      TimeoutError,
    );
    assertInstanceOf(e.cause, CancelledError);
  });
  assert(aborted);
});

Deno.test("gather() returns the results in order", async () => {
  using loop = new SelectorEventLoop();
  const r = await loop.runUntilComplete(() =>
    gather([sleep(10, { value: "a" }), async () => 2, Promise.resolve(true)])
  );
  assertEquals(r, ["a", 2, true]);
  assertEquals(await loop.runUntilComplete(() => gather([])), []);
});

Deno.test("gather() fails with the first error, or collects them with returnExceptions", async () => {
  using loop = new SelectorEventLoop();
  const err = new RangeError("first");
  await assertRejects(
    () =>
      loop.runUntilComplete(() =>
        gather([sleep(5), async () => {
          throw err;
        }])
      ),
    RangeError,
    "first",
  );
  const r = await loop.runUntilComplete(() =>
    gather([async () => 1, async () => {
      throw err;
    }], { returnExceptions: true })
  );
  assertEquals(r[0], 1);
  assertStrictEquals(r[1], err);
});

Deno.test("gather() cancel() cancels every child", async () => {
  using loop = new SelectorEventLoop();
  await loop.runUntilComplete(async () => {
    const a = loop.createTask((signal) => sleep(60_000, { signal }));
    const b = loop.createTask((signal) => sleep(60_000, { signal }));
    const g = gather([a, b]);
    await sleep(1);
    assert(g.cancel());
    await assertRejects(async () => await g, CancelledError);
    assert(a.cancelled());
    assert(b.cancelled());
  });
});

Deno.test("shield() keeps the inner operation running when the outer one is cancelled", async () => {
  using loop = new SelectorEventLoop();
  await loop.runUntilComplete(async () => {
    const inner = loop.createTask(() => sleep(5, { value: "saved" }));
    const outer = shield(inner);
    outer.cancel();
    await assertRejects(async () => await outer, CancelledError);
    assertEquals(await inner, "saved");
    assertEquals(inner.cancelled(), false);
    const inner2 = loop.createTask(() => sleep(1, { value: 2 }));
    assertEquals(await shield(inner2), 2);
  });
});

Deno.test("timeout() returns the body's result before the deadline", async () => {
  using loop = new SelectorEventLoop();
  const v = await loop.runUntilComplete(() =>
    timeout(60_000, async (signal, scope) => {
      assert(scope.when()! > loop.time());
      assertEquals(scope.expired(), false);
      await sleep(1, { signal });
      return "in time";
    })
  );
  assertEquals(v, "in time");
});

Deno.test("timeout() throws TimeoutError when the deadline aborts the body", async () => {
  using loop = new SelectorEventLoop();
  await loop.runUntilComplete(async () => {
    let scopeSeen = null as null | { expired(): boolean };
    await assertRejects(
      () =>
        timeout(5, async (signal, scope) => {
          scopeSeen = scope;
          await sleep(60_000, { signal });
        }),
      TimeoutError,
    );
    assert(scopeSeen!.expired());
  });
});

Deno.test("timeout() scope.reschedule() moves the deadline", async () => {
  using loop = new SelectorEventLoop();
  await loop.runUntilComplete(async () => {
    const v = await timeout(1, async (signal, scope) => {
      scope.reschedule(null);
      await sleep(10, { signal });
      return "no deadline";
    });
    assertEquals(v, "no deadline");
    await assertRejects(
      () =>
        timeout(null, async (signal, scope) => {
          scope.reschedule(loop.time() - 1);
          await sleep(60_000, { signal });
        }),
      TimeoutError,
    );
  });
});

Deno.test("timeout() lets a task's cancellation through as CancelledError", async () => {
  using loop = new SelectorEventLoop();
  const task = loop.createTask((outer) =>
    timeout(60_000, (signal) => sleep(60_000, { signal }), { signal: outer })
  );
  loop.callLater(1, () => task.cancel());
  await assertRejects(() => loop.runUntilComplete(task), CancelledError);
});
