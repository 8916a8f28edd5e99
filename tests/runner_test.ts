// Tasks run async functions; some have nothing to await.
// deno-lint-ignore-file require-await
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  type AbstractEventLoop,
  CancelledError,
  createTask,
  EventLoop,
  type ExceptionContext,
  getRunningLoop,
  PollSelector,
  SelectorEventLoop,
  SelectSelector,
  sleep,
  type Task,
} from "../mod.ts";
import { allTasks } from "../loop/all_tasks.ts";
import { run, Runner } from "../runner.ts";
import {
  DefaultEventLoopPolicy,
  getEventLoop,
  getEventLoopPolicy,
  setEventLoopPolicy,
} from "../policy.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";

/**
 * The selector of the factory-made loops: PollSelector, not DefaultSelector's choice, on Unix;
 * on Windows, whose one selector is Winsock's `select()`, that one.
 */
const FactorySelector = Deno.build.os === "windows" ? SelectSelector : PollSelector;
const pollLoop = (): SelectorEventLoop => new SelectorEventLoop(new FactorySelector());

/** Runs `fn` with a fresh default policy, and puts one back afterwards. */
async function withFreshPolicy(fn: () => unknown): Promise<void> {
  setEventLoopPolicy(null);
  try {
    await fn();
  } finally {
    setEventLoopPolicy(null);
  }
}

Deno.test("run() returns main's result; main runs while its loop runs, with a signal", () =>
  withFreshPolicy(async () => {
    let loop: AbstractEventLoop | undefined;
    await assertNoFdLeak(async () => {
      const result = await run(async (signal) => {
        assertInstanceOf(signal, AbortSignal);
        loop = getRunningLoop();
        assert(loop.isRunning());
        await sleep(1, { signal });
        return { answer: 42 };
      });
      assertEquals(result, { answer: 42 });
    });
    assertInstanceOf(loop, EventLoop); // this platform's default: SelectorEventLoop, or the Proactor
    assert(loop.isClosed());
  }));

Deno.test("run() rejects with main's own error and still closes the loop", () =>
  withFreshPolicy(async () => {
    const err = new RangeError("main failed");
    let loop: AbstractEventLoop | undefined;
    await assertNoFdLeak(async () => {
      const e = await assertRejects(() =>
        run(async () => {
          loop = getRunningLoop();
          await sleep(1);
          throw err;
        })
      );
      assertStrictEquals(e, err);
    });
    assert(loop!.isClosed());
  }));

Deno.test("run() cancels the tasks main left pending, waits for them and closes the loop", () =>
  withFreshPolicy(async () => {
    let loop: AbstractEventLoop | undefined;
    let forever: Task<unknown> | undefined;
    const cleanup: string[] = [];
    await assertNoFdLeak(async () => {
      const r = await run(async () => {
        loop = getRunningLoop();
        forever = createTask((signal) => sleep(60_000, { signal }), { name: "forever" });
        createTask(async (signal) => {
          try {
            await sleep(60_000, { signal });
          } finally {
            await sleep(1); // cleanup that itself needs the loop
            cleanup.push("closed the connection");
          }
        });
        await sleep(1);
        return "main done";
      });
      assertEquals(r, "main done");
    });
    assert(forever!.cancelled());
    assertEquals(cleanup, ["closed the connection"]);
    assert(loop!.isClosed());
    assertEquals(allTasks(loop).size, 0);
  }));

Deno.test("run() reports a leftover task that fails while being cancelled", () =>
  withFreshPolicy(async () => {
    const contexts: ExceptionContext[] = [];
    const boom = new Error("cleanup failed");
    let failing: Task<unknown> | undefined;
    let stubborn: Task<string> | undefined;
    await run(async () => {
      getRunningLoop().setExceptionHandler((_loop, context) => void contexts.push(context));
      failing = createTask(async (signal) => {
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
        throw boom;
      });
      // Ignores the cancellation and finishes: it is waited for, and not reported.
      stubborn = createTask(async () => {
        await sleep(2);
        return "finished anyway";
      });
      await sleep(1);
    });
    assertEquals(stubborn!.result(), "finished anyway");
    assertEquals(failing!.cancelled(), false);
    assertEquals(contexts.length, 1);
    assertEquals(contexts[0].message, "unhandled exception during run() shutdown");
    assertStrictEquals(contexts[0].exception, boom);
    assertStrictEquals(contexts[0].task, failing);
  }));

Deno.test("run() rejects with CancelledError when main's task is cancelled", () =>
  withFreshPolicy(async () => {
    let loop: AbstractEventLoop | undefined;
    await assertRejects(
      () =>
        run(async (signal) => {
          loop = getRunningLoop();
          const main = [...allTasks()][0];
          loop.callSoon(() => main.cancel("stop main"));
          await sleep(60_000, { signal });
        }),
      CancelledError,
      "stop main",
    );
    assert(loop!.isClosed());
  }));

Deno.test("run() called while a loop is running rejects and makes no loop", () =>
  withFreshPolicy(async () => {
    let made = 0;
    setEventLoopPolicy(
      new DefaultEventLoopPolicy({ loopFactory: () => (made++, pollLoop()) }),
    );
    using loop = new SelectorEventLoop();
    await loop.runUntilComplete(async () => {
      await assertRejects(
        () => run(async () => 1),
        Error,
        "run() cannot be called from a running event loop",
      );
      const runner = new Runner();
      await assertRejects(
        () => runner.run(async () => 1),
        Error,
        "Runner.run() cannot be called from a running event loop",
      );
    });
    assertEquals(made, 0);
  }));

Deno.test("run() uses loopFactory and does not make its loop the current one", () =>
  withFreshPolicy(async () => {
    let made: SelectorEventLoop | undefined;
    await assertNoFdLeak(async () => {
      await run(async () => {
        const loop = getRunningLoop() as SelectorEventLoop;
        assertStrictEquals(loop, made);
        assertInstanceOf(loop.selector, FactorySelector);
        // asyncio sets the current loop only when it comes from the policy.
        assertThrows(() => getEventLoopPolicy().getEventLoop(), Error, "no current event loop");
      }, { loopFactory: () => made = pollLoop() });
    });
    assert(made!.isClosed());
  }));

Deno.test("run() without loopFactory sets the policy's loop current until the end", () =>
  withFreshPolicy(async () => {
    let made = 0;
    const policy = new DefaultEventLoopPolicy({ loopFactory: () => (made++, pollLoop()) });
    setEventLoopPolicy(policy);
    let loop: AbstractEventLoop | undefined;
    await run(async () => {
      loop = getRunningLoop();
      assertStrictEquals(policy.getEventLoop(), loop);
      assertStrictEquals(getEventLoop(), loop);
    });
    assertEquals(made, 1);
    assert(loop!.isClosed());
    assertThrows(() => getEventLoop(), Error, "no current event loop");
  }));

Deno.test("run() passes debug through to the loop", () =>
  withFreshPolicy(async () => {
    assertEquals(await run(async () => getRunningLoop().getDebug(), { debug: true }), true);
    const debugLoop = () => new SelectorEventLoop({ debug: true });
    assertEquals(
      await run(async () => getRunningLoop().getDebug(), { debug: false, loopFactory: debugLoop }),
      false,
    );
    assertEquals(
      await run(async () => getRunningLoop().getDebug(), { loopFactory: debugLoop }),
      true,
      "omitted: the loop keeps its own setting",
    );
  }));

Deno.test("run() and Runner refuse bad arguments with TypeError and leak nothing", () =>
  withFreshPolicy(async () => {
    await assertNoFdLeak(async () => {
      const promise = Promise.resolve(1);
      const e = await assertRejects(() => run(promise as never), TypeError, "a promise");
      assertStringIncludes(e.message, "async function");
      await assertRejects(() => run(42 as never), TypeError, "got number");
      await assertRejects(() => run(null as never), TypeError, "got null");
      await assertRejects(
        () => run(async () => 1, { loopFactory: () => 42 as never }),
        TypeError,
        "loopFactory must return an event loop",
      );
      assertThrows(() => new Runner({ debug: "yes" as never }), TypeError, "debug");
      assertThrows(() => new Runner({ loopFactory: 42 as never }), TypeError, "loopFactory");
      await using runner = new Runner();
      await assertRejects(() => runner.run({} as never), TypeError, "Runner.run()");
    });
    assertThrows(() => getEventLoop(), Error, "no current event loop");
  }));

Deno.test("Runner runs several functions on one loop and close() closes it", () =>
  withFreshPolicy(async () => {
    await assertNoFdLeak(async () => {
      const runner = new Runner({ loopFactory: pollLoop });
      const loop = runner.getLoop();
      assertStrictEquals(runner.getLoop(), loop);
      assertEquals(loop.isRunning(), false);
      let leftover: Task<unknown> | undefined;
      const a = await runner.run(async () => {
        assertStrictEquals(getRunningLoop(), loop);
        leftover = createTask((signal) => sleep(60_000, { signal }));
        return 1;
      });
      assertEquals(leftover!.done(), false, "run() leaves other tasks to close()");
      const b = await runner.run(async () => {
        assertStrictEquals(getRunningLoop(), loop);
        return a + 1;
      });
      assertEquals(b, 2);
      await runner.close();
      assert(leftover!.cancelled());
      assert(loop.isClosed());
      await runner.close(); // twice is fine
      await assertRejects(() => runner.run(async () => 3), Error, "Runner is closed");
      assertThrows(() => runner.getLoop(), Error, "Runner is closed");
    });
  }));

Deno.test("Runner without loopFactory sets the current loop and close() unsets it", () =>
  withFreshPolicy(async () => {
    const runner = new Runner();
    const loop = runner.getLoop();
    assertStrictEquals(getEventLoop(), loop);
    await runner.run(async () => assertStrictEquals(getEventLoop(), loop));
    assertStrictEquals(getEventLoop(), loop, "between runs too");
    await runner.close();
    assertThrows(() => getEventLoop(), Error, "no current event loop");
  }));

Deno.test("Runner.close() of a runner never used makes no loop and closes the runner", () =>
  withFreshPolicy(async () => {
    let made = 0;
    const runner = new Runner({ loopFactory: () => (made++, pollLoop()) });
    await runner.close();
    assertEquals(made, 0);
    assertThrows(() => runner.getLoop(), Error, "Runner is closed");
  }));

Deno.test("Runner.close() from inside its own run rejects and leaves the runner usable", () =>
  withFreshPolicy(async () => {
    await using runner = new Runner({ loopFactory: pollLoop });
    await runner.run(async () => {
      await assertRejects(() => runner.close(), Error, "while its loop is running");
      assertThrows(() => runner[Symbol.dispose](), Error, "while its loop is running");
    });
    assertEquals(await runner.run(async () => "still open"), "still open");
  }));

Deno.test("await using a Runner cancels leftover tasks and closes the loop", () =>
  withFreshPolicy(async () => {
    let loop: AbstractEventLoop | undefined;
    let leftover: Task<unknown> | undefined;
    await assertNoFdLeak(async () => {
      await using runner = new Runner({ loopFactory: pollLoop });
      loop = runner.getLoop();
      await runner.run(async () => {
        leftover = createTask((signal) => sleep(60_000, { signal }));
      });
    });
    assert(leftover!.cancelled());
    assert(loop!.isClosed());
  }));

Deno.test("using a Runner aborts leftover tasks' signals without waiting and closes the loop", () =>
  withFreshPolicy(async () => {
    let loop: AbstractEventLoop | undefined;
    let signalOfLeftover: AbortSignal | undefined;
    await assertNoFdLeak(async () => {
      using runner = new Runner();
      loop = runner.getLoop();
      await runner.run(async () => {
        createTask(async (signal) => {
          signalOfLeftover = signal;
          await sleep(60_000, { signal });
        });
        await sleep(1);
      });
    });
    assert(signalOfLeftover!.aborted);
    assertInstanceOf(signalOfLeftover!.reason, CancelledError);
    assert(loop!.isClosed());
    assertThrows(() => getEventLoop(), Error, "no current event loop");
  }));

Deno.test("Runner.close() after its loop was closed by hand just finishes", () =>
  withFreshPolicy(async () => {
    const runner = new Runner({ loopFactory: pollLoop });
    await runner.run(async () => {
      createTask((signal) => sleep(60_000, { signal }));
    });
    runner.getLoop().close();
    await runner.close();
    assertThrows(() => runner.getLoop(), Error, "Runner is closed");
  }));
