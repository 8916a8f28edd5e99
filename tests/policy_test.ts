// Tasks run async functions; some have nothing to await.
// deno-lint-ignore-file require-await
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  type AbstractEventLoop,
  type BaseSelector,
  EventLoop,
  PollSelector,
  ProactorEventLoop,
  probeDefaultSelector,
  SelectorEventLoop,
  SelectSelector,
  WindowsSelectorEventLoop,
  WinsockSelectSelector,
} from "../mod.ts";
import {
  AbstractEventLoopPolicy,
  DefaultEventLoopPolicy,
  getEventLoop,
  getEventLoopPolicy,
  newEventLoop,
  setEventLoop,
  setEventLoopPolicy,
  WindowsProactorEventLoopPolicy,
  WindowsSelectorEventLoopPolicy,
} from "../policy.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";

/**
 * A selector class that is not `DefaultSelector`'s choice where there is one
 * (PollSelector on Unix); on Windows, whose one selector is Winsock's
 * `select()`, that one.
 */
const OtherSelector: new () => BaseSelector = Deno.build.os === "windows"
  ? SelectSelector
  : PollSelector;

/** Runs `fn` and puts a fresh default policy back afterwards, whatever `fn` changed. */
async function withFreshPolicy(fn: () => unknown): Promise<void> {
  setEventLoopPolicy(null);
  try {
    await fn();
  } finally {
    setEventLoopPolicy(null);
  }
}

Deno.test("getEventLoopPolicy() makes one DefaultEventLoopPolicy and keeps it", () =>
  withFreshPolicy(() => {
    const policy = getEventLoopPolicy();
    assertInstanceOf(policy, DefaultEventLoopPolicy);
    assert(policy instanceof AbstractEventLoopPolicy);
    assertStrictEquals(getEventLoopPolicy(), policy);
  }));

Deno.test("setEventLoopPolicy() replaces the policy and null restores a default one", () =>
  withFreshPolicy(() => {
    const before = getEventLoopPolicy();
    const custom = new DefaultEventLoopPolicy();
    setEventLoopPolicy(custom);
    assertStrictEquals(getEventLoopPolicy(), custom);
    setEventLoopPolicy(null);
    const restored = getEventLoopPolicy();
    assertInstanceOf(restored, DefaultEventLoopPolicy);
    assert(restored !== custom);
    assert(restored !== before, "a new default policy, with no current loop");
  }));

Deno.test("getEventLoop() with no loop set throws a clear Error and makes no loop", () =>
  withFreshPolicy(async () => {
    await assertNoFdLeak(() => {
      const e = assertThrows(() => getEventLoop(), Error, "There is no current event loop");
      assertStringIncludes(e.message, "setEventLoop(newEventLoop())");
      assertStringIncludes(e.message, "run(main)");
      assertThrows(() => getEventLoopPolicy().getEventLoop(), Error, "no current event loop");
    });
  }));

Deno.test("setEventLoop() sets the current loop and setEventLoop(null) clears it", () =>
  withFreshPolicy(async () => {
    using loop = new SelectorEventLoop();
    setEventLoop(loop);
    assertStrictEquals(getEventLoop(), loop);
    assertStrictEquals(getEventLoopPolicy().getEventLoop(), loop);
    setEventLoop(null);
    assertThrows(() => getEventLoop(), Error, "no current event loop");
    assertEquals(loop.isClosed(), false, "unsetting a loop does not close it");
  }));

Deno.test("newEventLoop() makes a new EventLoop (SelectorEventLoop; ProactorEventLoop on Windows) that is not the current loop", () =>
  withFreshPolicy(async () => {
    await assertNoFdLeak(() => {
      using a = newEventLoop();
      using b = newEventLoop();
      assertInstanceOf(a, EventLoop);
      if (Deno.build.os === "windows") assertInstanceOf(a, ProactorEventLoop);
      else {
        assertInstanceOf(a, SelectorEventLoop);
        assertInstanceOf(a.selector, probeDefaultSelector().chosen);
      }
      assert(a !== b);
      assertThrows(() => getEventLoop(), Error, "no current event loop");
    });
  }));

Deno.test("newEventLoop() makes loops that run", () =>
  withFreshPolicy(async () => {
    using loop = newEventLoop();
    assertEquals(await loop.runUntilComplete(async () => 42), 42);
  }));

Deno.test("getEventLoop() inside a running loop returns it, even with another loop set", () =>
  withFreshPolicy(async () => {
    using other = new SelectorEventLoop();
    using loop = new SelectorEventLoop();
    setEventLoop(other);
    const seen = await loop.runUntilComplete(async () => {
      const fromTask = getEventLoop();
      // A Deno timer firing while the loop is parked sees the running loop too.
      const fromTimer = await new Promise<AbstractEventLoop>((resolve) =>
        setTimeout(() => resolve(getEventLoop()), 1)
      );
      const fromCallback = await new Promise<AbstractEventLoop>((resolve) =>
        loop.callSoon(() => resolve(getEventLoop()))
      );
      return [fromTask, fromTimer, fromCallback];
    });
    for (const l of seen) assertStrictEquals(l, loop);
    assertStrictEquals(getEventLoop(), other, "outside the run: the current loop again");
  }));

Deno.test("DefaultEventLoopPolicy({ loopFactory }) makes its loops with the factory", () =>
  withFreshPolicy(async () => {
    let made = 0;
    setEventLoopPolicy(
      new DefaultEventLoopPolicy({
        loopFactory: () => {
          made++;
          return new SelectorEventLoop(selector = new OtherSelector());
        },
      }),
    );
    let selector: BaseSelector | undefined;
    await assertNoFdLeak(() => {
      using loop = newEventLoop() as SelectorEventLoop;
      assertInstanceOf(loop.selector, OtherSelector);
      assertStrictEquals(loop.selector, selector);
      assertEquals(made, 1);
    });
  }));

Deno.test("each DefaultEventLoopPolicy keeps its own current loop", () => {
  using loop = new SelectorEventLoop();
  const a = new DefaultEventLoopPolicy();
  const b = new DefaultEventLoopPolicy();
  a.setEventLoop(loop);
  assertStrictEquals(a.getEventLoop(), loop);
  assertThrows(() => b.getEventLoop(), Error, "no current event loop");
});

Deno.test("a subclass of AbstractEventLoopPolicy serves get/set/newEventLoop()", () =>
  withFreshPolicy(async () => {
    const calls: string[] = [];
    class CountingPolicy extends AbstractEventLoopPolicy {
      #loop: AbstractEventLoop | null = null;
      getEventLoop(): AbstractEventLoop {
        calls.push("get");
        if (this.#loop === null) throw new Error("none here");
        return this.#loop;
      }
      setEventLoop(loop: AbstractEventLoop | null): void {
        calls.push("set");
        this.#loop = loop;
      }
      newEventLoop(): AbstractEventLoop {
        calls.push("new");
        return new SelectorEventLoop(new OtherSelector());
      }
    }
    setEventLoopPolicy(new CountingPolicy());
    using loop = newEventLoop();
    setEventLoop(loop);
    assertStrictEquals(getEventLoop(), loop);
    setEventLoop(null);
    assertThrows(() => getEventLoop(), Error, "none here");
    assertEquals(calls, ["new", "set", "get", "set", "get"]);
  }));

Deno.test("setEventLoop() and policy.setEventLoop() refuse non-loops with TypeError", () =>
  withFreshPolicy(() => {
    for (const bad of [42, "loop", {}, undefined, { runForever() {} }, () => {}]) {
      assertThrows(() => setEventLoop(bad as never), TypeError, "must be an event loop or null");
      assertThrows(() => new DefaultEventLoopPolicy().setEventLoop(bad as never), TypeError);
    }
    assertThrows(() => getEventLoop(), Error, "no current event loop");
  }));

Deno.test("setEventLoopPolicy() refuses what is not a policy with TypeError", () =>
  withFreshPolicy(() => {
    const policy = getEventLoopPolicy();
    for (const bad of [{}, 42, "policy", undefined, { getEventLoop() {} }]) {
      const e = assertThrows(() => setEventLoopPolicy(bad as never), TypeError);
      assertStringIncludes(e.message, "AbstractEventLoopPolicy or null");
    }
    assertStrictEquals(getEventLoopPolicy(), policy, "the policy is unchanged");
  }));

Deno.test("DefaultEventLoopPolicy refuses a bad loopFactory with TypeError", () => {
  assertThrows(
    () => new DefaultEventLoopPolicy({ loopFactory: 42 as never }),
    TypeError,
    "loopFactory must be a function",
  );
  const policy = new DefaultEventLoopPolicy({ loopFactory: () => ({}) as never });
  assertThrows(() => policy.newEventLoop(), TypeError, "loopFactory must return an event loop");
});

Deno.test({
  name: "Windows policies refuse to make a loop on this platform with NotSupported",
  ignore: Deno.build.os === "windows",
  fn: () =>
    withFreshPolicy(async () => {
      await assertNoFdLeak(() => {
        for (const Policy of [WindowsSelectorEventLoopPolicy, WindowsProactorEventLoopPolicy]) {
          const policy = new Policy();
          assert(policy instanceof AbstractEventLoopPolicy);
          const e = assertThrows(() => policy.newEventLoop(), Deno.errors.NotSupported);
          assertStringIncludes(e.message, Policy.name);
          assertStringIncludes(e.message, Deno.build.os);
          assertStringIncludes(e.message, "DefaultEventLoopPolicy");
          // Set as the policy, it refuses through newEventLoop() too, and holds no loop.
          setEventLoopPolicy(policy);
          assertThrows(() => newEventLoop(), Deno.errors.NotSupported, Deno.build.os);
          assertThrows(() => getEventLoop(), Error, "no current event loop");
        }
      });
    }),
});

Deno.test({
  name:
    "Windows policies on Windows: the selector policy makes WindowsSelectorEventLoop; the default and the Proactor policy a ProactorEventLoop",
  ignore: Deno.build.os !== "windows",
  fn: () =>
    withFreshPolicy(async () => {
      await assertNoFdLeak(async () => {
        {
          using loop = new WindowsSelectorEventLoopPolicy().newEventLoop();
          assertInstanceOf(loop, WindowsSelectorEventLoop);
          assertInstanceOf(loop, SelectorEventLoop);
          assertInstanceOf(loop.selector, WinsockSelectSelector);
          assertEquals(await loop.runUntilComplete(async () => "select"), "select");
        }
        // The default policy makes EventLoop: the ProactorEventLoop, as asyncio's since 3.8.
        {
          using loop = new DefaultEventLoopPolicy().newEventLoop();
          assertInstanceOf(loop, ProactorEventLoop);
          assertInstanceOf(loop, EventLoop);
          assertEquals(await loop.runUntilComplete(async () => "iocp"), "iocp");
        }
        // Set as the policy, the selector policy serves newEventLoop() and the current loop.
        setEventLoopPolicy(new WindowsSelectorEventLoopPolicy());
        using loop = newEventLoop();
        assertInstanceOf(loop, WindowsSelectorEventLoop);
        setEventLoop(loop);
        assertStrictEquals(getEventLoop(), loop);
        setEventLoop(null);
        // The Proactor policy makes the ProactorEventLoop, which runs as any loop does.
        using proactor = new WindowsProactorEventLoopPolicy().newEventLoop();
        assertInstanceOf(proactor, ProactorEventLoop);
        assertEquals(await proactor.runUntilComplete(async () => "iocp"), "iocp");
      });
    }),
});
