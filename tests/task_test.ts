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
  createTask,
  getRunningLoop,
  SelectorEventLoop,
  sleep,
  Socket,
  Task,
} from "../mod.ts";

Deno.test("Task starts on the loop's next turn, not inside createTask()", async () => {
  using loop = new SelectorEventLoop();
  const seen: string[] = [];
  const task = loop.createTask(async (signal) => {
    seen.push("task");
    assertInstanceOf(signal, AbortSignal);
    assertStrictEquals(getRunningLoop(), loop);
    return 1;
  });
  seen.push("created");
  loop.callSoon(() => seen.push("soon"));
  assertEquals(await loop.runUntilComplete(task), 1);
  assertEquals(seen, ["created", "task", "soon"]);
});

Deno.test("Task takes the error its function throws or rejects with", async () => {
  using loop = new SelectorEventLoop();
  const err = new TypeError("t");
  const sync = loop.createTask(() => {
    throw err;
  });
  const asyncT = loop.createTask(async () => {
    await sleep(1);
    throw new RangeError("r");
  });
  await assertRejects(() => loop.runUntilComplete(sync), TypeError, "t");
  assertStrictEquals(sync.exception(), err);
  await assertRejects(() => loop.runUntilComplete(asyncT), RangeError, "r");
  assertEquals(asyncT.cancelled(), false);
});

Deno.test("Task.cancel() aborts the signal and the task ends cancelled", async () => {
  using loop = new SelectorEventLoop();
  let reason: unknown;
  const task = loop.createTask(async (signal) => {
    signal.addEventListener("abort", () => reason = signal.reason);
    await sleep(60_000, { signal });
  });
  loop.callLater(1, () => assert(task.cancel("enough")));
  const e = await assertRejects(() => loop.runUntilComplete(task), CancelledError);
  assertEquals(e.message, "enough");
  assert(task.cancelled());
  assertInstanceOf(reason, CancelledError);
  assertEquals(task.cancel(), false);
});

Deno.test("Task.cancel() before the start keeps the function from running", async () => {
  using loop = new SelectorEventLoop();
  let ran = false;
  const task = loop.createTask(async () => {
    ran = true;
  });
  assert(task.cancel());
  await assertRejects(() => loop.runUntilComplete(task), CancelledError);
  assertEquals(ran, false);
  assert(task.cancelled());
});

Deno.test("Task whose function returns despite cancel() keeps the result", async () => {
  using loop = new SelectorEventLoop();
  const task = loop.createTask(async (signal) => {
    try {
      await sleep(60_000, { signal });
    } catch {
      return "swallowed";
    }
  });
  loop.callLater(1, () => task.cancel());
  assertEquals(await loop.runUntilComplete(task), "swallowed");
  assertEquals(task.cancelled(), false);
});

Deno.test("Task ends cancelled on an AbortError after cancel(), failed without cancel()", async () => {
  using loop = new SelectorEventLoop();
  const abortError = () => new DOMException("aborted", "AbortError");
  const cancelled = loop.createTask((signal) =>
    new Promise((_, reject) => signal.addEventListener("abort", () => reject(abortError())))
  );
  loop.callLater(1, () => cancelled.cancel());
  await assertRejects(() => loop.runUntilComplete(cancelled), CancelledError);
  const failed = loop.createTask(async () => {
    throw abortError();
  });
  await assertRejects(() => loop.runUntilComplete(failed), DOMException);
  assertEquals(failed.cancelled(), false);
});

Deno.test("Task ends cancelled when its function rejects with CancelledError", async () => {
  using loop = new SelectorEventLoop();
  const task = loop.createTask(async () => {
    throw new CancelledError("by itself");
  });
  const e = await assertRejects(() => loop.runUntilComplete(task), CancelledError);
  assertEquals(e.message, "by itself");
  assert(task.cancelled());
});

Deno.test("Task is awaitable from another task", async () => {
  using loop = new SelectorEventLoop();
  const result = await loop.runUntilComplete(async () => {
    const child = createTask(async () => {
      await sleep(2);
      return 21;
    });
    return (await child) * 2;
  });
  assertEquals(result, 42);
});

Deno.test("createTask() refuses a promise or a non-function", () => {
  using loop = new SelectorEventLoop();
  const p = Promise.resolve(1);
  // deno-lint-ignore no-explicit-any
  assertThrows(() => loop.createTask(p as any), TypeError, "promise");
  // deno-lint-ignore no-explicit-any
  assertThrows(() => loop.createTask(42 as any), TypeError);
  assertThrows(() => createTask(async () => {}), Error, "no running event loop");
});

Deno.test("Task has a name, a function, and refuses setResult()", async () => {
  using loop = new SelectorEventLoop();
  const fn = async () => {};
  const a = loop.createTask(fn);
  const b = loop.createTask(fn, { name: "worker" });
  assert(/^Task-\d+$/.test(a.getName()));
  assertEquals(b.getName(), "worker");
  b.setName("renamed");
  assertEquals(b.getName(), "renamed");
  assertStrictEquals(a.getCoro(), fn);
  assertInstanceOf(a, Task);
  assertThrows(() => a.setResult(undefined), Error, "does not support");
  assertThrows(() => a.setException(new Error()), Error, "does not support");
  assert(String(b).includes('name="renamed"'));
  await loop.runUntilComplete(a);
  await loop.runUntilComplete(b);
});

Deno.test("Task.cancelling() counts requests and uncancel() takes them back", async () => {
  using loop = new SelectorEventLoop();
  const task = loop.createTask(async () => 1);
  task.cancel();
  task.cancel();
  assertEquals(task.cancelling(), 2);
  assertEquals(task.uncancel(), 1);
  assertEquals(task.uncancel(), 0);
  assertEquals(task.uncancel(), 0);
  assertEquals(await loop.runUntilComplete(task), 1); // every request taken back
});

Deno.test("Task steps interleave with loop callbacks", async () => {
  using loop = new SelectorEventLoop();
  const seen: string[] = [];
  const t1 = loop.createTask(async () => {
    for (let i = 0; i < 3; i++) {
      seen.push(`a${i}`);
      await sleep(0);
    }
  });
  const t2 = loop.createTask(async () => {
    for (let i = 0; i < 3; i++) {
      seen.push(`b${i}`);
      await sleep(0);
    }
  });
  await loop.runUntilComplete(t1);
  await loop.runUntilComplete(t2);
  assertEquals(seen, ["a0", "b0", "a1", "b1", "a2", "b2"]);
});

Deno.test("Task.cancel() without a message: the CancelledError names the task", async () => {
  using loop = new SelectorEventLoop();
  let inner: unknown;
  const task = loop.createTask(async (signal) => {
    try {
      await sleep(60_000, { signal });
    } catch (e) {
      inner = e;
      throw e;
    }
  }, { name: "worker" });
  loop.callLater(1, () => task.cancel());
  const e = await assertRejects(() => loop.runUntilComplete(task), CancelledError);
  assertEquals([e.message, e.cancelMessage], ["worker was cancelled", undefined]);
  assertInstanceOf(inner, CancelledError);
  assertEquals((inner as CancelledError).cancelMessage, undefined); // no message to pass on
  assertEquals(assertThrows(() => task.result(), CancelledError).message, "worker was cancelled");
  // Before it started, with the default name.
  const early = loop.createTask(async () => {});
  early.cancel();
  const e2 = await assertRejects(() => loop.runUntilComplete(early), CancelledError);
  assertEquals(e2.message, `${early.getName()} was cancelled`);
  assert(/^Task-\d+ was cancelled$/.test(e2.message), e2.message);
});

Deno.test("Task.cancel(msg) keeps the message; an aborted call says what was cancelled", async () => {
  using loop = new SelectorEventLoop();
  using sock = new Socket({ type: "dgram" });
  sock.bind({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  let recvError: unknown;
  const task = loop.createTask(async (signal) => {
    try {
      await loop.sockRecv(sock, 16, { signal });
    } catch (e) {
      recvError = e;
      throw e;
    }
  });
  loop.callLater(1, () => task.cancel());
  await assertRejects(() => loop.runUntilComplete(task), CancelledError);
  assertInstanceOf(recvError, CancelledError);
  assertEquals((recvError as CancelledError).message, "sockRecv() was cancelled");
  assertEquals(((recvError as Error).cause as Error).message, `${task.getName()} was cancelled`);

  const told = loop.createTask(async (signal) => {
    await loop.sockRecv(sock, 16, { signal });
  });
  loop.callLater(1, () => told.cancel("enough"));
  const e = await assertRejects(() => loop.runUntilComplete(told), CancelledError);
  assertEquals([e.message, e.cancelMessage], ["enough", "enough"]);
});
