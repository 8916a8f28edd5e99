import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { CancelledError, Future, InvalidStateError, isFuture, SelectorEventLoop } from "../mod.ts";

async function turns(loop: SelectorEventLoop, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) {
    loop.stop();
    await loop.runForever();
  }
}

Deno.test("Future.result() of a pending future throws InvalidStateError", () => {
  using loop = new SelectorEventLoop();
  const fut = loop.createFuture();
  assertEquals(fut.done(), false);
  assertThrows(() => fut.result(), InvalidStateError, "Result is not ready.");
  assertThrows(() => fut.exception(), InvalidStateError);
});

Deno.test("Future.setResult() makes it done; a second set throws InvalidStateError", () => {
  using loop = new SelectorEventLoop();
  const fut = loop.createFuture<number>();
  fut.setResult(5);
  assert(fut.done());
  assertEquals(fut.result(), 5);
  assertEquals(fut.exception(), null);
  assertThrows(() => fut.setResult(6), InvalidStateError);
  assertThrows(() => fut.setException(new Error()), InvalidStateError);
  assertEquals(fut.cancel(), false);
});

Deno.test("Future.setException() makes result() throw it", () => {
  using loop = new SelectorEventLoop();
  const fut = loop.createFuture();
  const err = new RangeError("nope");
  fut.setException(err);
  assertStrictEquals(fut.exception(), err);
  assertStrictEquals(assertThrows(() => fut.result()), err);
});

Deno.test("Future.cancel() makes result() throw CancelledError with the message", () => {
  using loop = new SelectorEventLoop();
  const fut = loop.createFuture();
  assert(fut.cancel("stop it"));
  assert(fut.cancelled());
  assert(fut.done());
  const e = assertThrows(() => fut.result(), CancelledError);
  assertEquals(e.message, "stop it");
  assertEquals(e.name, "CancelledError");
  assertThrows(() => fut.exception(), CancelledError);
  assertEquals(fut.cancel(), false);
  assertThrows(() => fut.setResult(1), InvalidStateError);
});

Deno.test("Future done callbacks run through the loop, in order, never inline", async () => {
  using loop = new SelectorEventLoop();
  const fut = loop.createFuture<string>();
  const seen: unknown[] = [];
  fut.addDoneCallback((f) => seen.push(["a", f.result()]));
  fut.addDoneCallback((f) => seen.push(["b", f]));
  fut.setResult("x");
  assertEquals(seen, []);
  await turns(loop);
  assertEquals(seen, [["a", "x"], ["b", fut]]);
  fut.addDoneCallback(() => seen.push("late"));
  assertEquals(seen.length, 2);
  await turns(loop);
  assertEquals(seen[2], "late");
});

Deno.test("Future.removeDoneCallback() removes every registration and counts them", async () => {
  using loop = new SelectorEventLoop();
  const fut = loop.createFuture();
  let calls = 0;
  const cb = () => calls++;
  fut.addDoneCallback(cb);
  fut.addDoneCallback(cb);
  fut.addDoneCallback(() => calls += 10);
  assertEquals(fut.removeDoneCallback(cb), 2);
  assertEquals(fut.removeDoneCallback(cb), 0);
  fut.setResult(null);
  await turns(loop);
  assertEquals(calls, 10);
  // deno-lint-ignore no-explicit-any
  assertThrows(() => fut.addDoneCallback(42 as any), TypeError);
});

Deno.test("Future is awaitable: result, exception and cancellation", async () => {
  using loop = new SelectorEventLoop();
  const ok = loop.createFuture<number>();
  const bad = loop.createFuture<number>();
  const gone = loop.createFuture<number>();
  loop.callSoon(() => ok.setResult(1));
  loop.callSoon(() => bad.setException(new SyntaxError("s")));
  loop.callSoon(() => gone.cancel("bye"));
  const got = await loop.runUntilComplete(async () => {
    const v = await ok;
    const e1 = await bad.then(() => null, (e) => e);
    const e2 = await gone.then(() => null, (e) => e);
    return [v, e1, e2] as const;
  });
  assertEquals(got[0], 1);
  assertInstanceOf(got[1], SyntaxError);
  assertInstanceOf(got[2], CancelledError);
  assertEquals((got[2] as Error).message, "bye");
});

Deno.test("Future that is done can be awaited without a running loop", async () => {
  using loop = new SelectorEventLoop();
  const fut = loop.createFuture<string>();
  fut.setResult("now");
  assertEquals(await fut, "now");
  const cancelled = loop.createFuture();
  cancelled.cancel();
  await assertRejects(async () => await cancelled, CancelledError);
});

Deno.test("new Future() without a loop needs a running loop", async () => {
  assertThrows(() => new Future(), Error, "no running event loop");
  using loop = new SelectorEventLoop();
  let fut: Future | undefined;
  loop.callSoon(() => fut = new Future());
  loop.callSoon(() => loop.stop());
  await loop.runForever();
  assertStrictEquals(fut?.getLoop(), loop);
});

Deno.test("isFuture() recognises futures and tasks only", async () => {
  using loop = new SelectorEventLoop();
  assert(isFuture(loop.createFuture()));
  const task = loop.createTask(async () => {});
  assert(isFuture(task));
  assertEquals(isFuture(Promise.resolve()), false);
  assertEquals(isFuture({ then() {} }), false);
  assertEquals(isFuture(null), false);
  await loop.runUntilComplete(task);
});

Deno.test("Future.toString() shows the state", () => {
  using loop = new SelectorEventLoop();
  const fut = loop.createFuture();
  assertEquals(String(fut), "<Future pending>");
  fut.setResult(3);
  assertEquals(String(fut), "<Future finished result=3>");
});

Deno.test("Future keeps its creation stack in debug mode", () => {
  using loop = new SelectorEventLoop({ debug: true });
  assert((loop.createFuture().sourceTraceback ?? "").includes("future_test.ts"));
});

Deno.test("Future.cancel() without a message: the CancelledError says a Future was cancelled", async () => {
  using loop = new SelectorEventLoop();
  const fut = loop.createFuture();
  fut.cancel();
  const e = assertThrows(() => fut.result(), CancelledError);
  assertEquals(e.message, "Future was cancelled");
  assertEquals(e.cancelMessage, undefined);
  const awaited = await assertRejects(() => Promise.resolve(fut), CancelledError);
  assertEquals(awaited.message, "Future was cancelled");
  const given = loop.createFuture();
  given.cancel("stop it");
  const g = assertThrows(() => given.result(), CancelledError);
  assertEquals([g.message, g.cancelMessage], ["stop it", "stop it"]);
});

Deno.test("CancelledError: a default message naming what was cancelled, unless one is given", () => {
  const plain = new CancelledError();
  assertEquals([plain.message, plain.cancelMessage], ["The operation was cancelled", undefined]);
  const what = new CancelledError(undefined, { what: "sockRecv()", cause: 1 });
  assertEquals([what.message, what.cancelMessage, what.cause], [
    "sockRecv() was cancelled",
    undefined,
    1,
  ]);
  const msg = new CancelledError("bye", { what: "ignored" });
  assertEquals([msg.message, msg.cancelMessage], ["bye", "bye"]);
  assertEquals(new CancelledError("").message, ""); // an empty message given stays empty
});
