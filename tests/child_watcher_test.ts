/**
 * Child watchers (pidfd, SIGCHLD, kqueue through the emulation), the
 * policy's `getChildWatcher`/`setChildWatcher`, the emulated EVFILT_PROC,
 * coexistence with `Deno.Command` and with signal handlers, and `run()`'s
 * SIGINT handling (in a separate `deno run` process).
 */
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { DEVNULL } from "../mod.ts";
import {
  type AbstractChildWatcher,
  KqueueChildWatcher,
  PidfdChildWatcher,
  SigchldChildWatcher,
} from "../loop/unix/mod.ts";
import { DefaultEventLoopPolicy, getEventLoopPolicy } from "../policy.ts";
import { pidfdSupport } from "../ffi/linux/pidfd.ts";
import { spawnProcess } from "../ffi/unix/spawn.ts";
import { decodeKevent, EVFILT_PROC, KEVENT_SIZE, NOTE_EXIT } from "../ffi/darwin/kevent.ts";
import { NOTE_EXITSTATUS, setProcExitKevent } from "../ffi/darwin/proc_exit.ts";
import { waitpidNoHang } from "../ffi/unix/wait.ts";
import { POLLFD_SIZE, pollfdRevents, POLLIN, setPollfd } from "../ffi/unix/pollfd.ts";
import { libc } from "../ffi/unix/libc.ts";
import { TIMESPEC_SIZE, writeTimespec } from "../ffi/unix/time.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { KqueueEmulation } from "./_kqueue_emulation.ts";
import { forEachLoop, forOneLoop } from "./_loops.ts";
import { isOurZombie, Recorder, withWatcher, zombieChild } from "./_subprocess_helpers.ts";

const linux = Deno.build.os === "linux";
const unix = Deno.build.os !== "windows";
const PIDFD = linux && pidfdSupport().supported;

const WATCHERS: { name: string; make: () => AbstractChildWatcher; ignore: boolean }[] = [
  { name: "PidfdChildWatcher", make: () => new PidfdChildWatcher(), ignore: !PIDFD },
  { name: "SigchldChildWatcher", make: () => new SigchldChildWatcher(), ignore: !unix },
  {
    name: linux ? "KqueueChildWatcher (emulated)" : "KqueueChildWatcher",
    make: () => new KqueueChildWatcher(linux ? { api: new KqueueEmulation() } : {}),
    ignore: !linux && Deno.build.os !== "darwin",
  },
];

for (const w of WATCHERS) {
  forEachLoop(["subprocesses", "childWatchers"], (lc, test) => {
    test({
      name: `${w.name} on ${lc.tag}: codes 0, 3, -9 and 20 children at once, all reaped`,
      ignore: w.ignore,
      fn: () =>
        assertNoFdLeak(() =>
          withWatcher(w.make(), async () => {
            using loop = lc.make();
            const opts = { stdin: DEVNULL, stdout: DEVNULL, stderr: DEVNULL } as const;
            const [codes, many] = await loop.runUntilComplete(async () => {
              const codes: (number | null)[] = [];
              for (const args of [["true"], ["sh", "-c", "exit 3"], ["sleep", "30"]]) {
                const [t, p] = await loop.subprocessExec(() => new Recorder(), args, opts);
                if (args[0] === "sleep") t.kill();
                await p.done.promise;
                codes.push(t.getReturncode());
                t.close();
              }
              const started = await Promise.all(
                Array.from(
                  { length: 20 },
                  (_, i) =>
                    loop.subprocessExec(() => new Recorder(), ["sh", "-c", `exit ${i}`], opts),
                ),
              );
              const many = await Promise.all(started.map(async ([t, p]) => {
                await p.done.promise;
                t.close();
                return [t.getPid(), t.getReturncode()] as const;
              }));
              return [codes, many];
            });
            assertEquals(codes, [0, 3, -9]);
            many.forEach(([pid, code], i) => {
              assertEquals(code, i);
              assert(!isOurZombie(pid));
            });
            assertEquals(zombieChild(), 0);
          })
        ),
    });
  });
}

forOneLoop(["subprocesses", "childWatchers"], (lc, test) => {
  test({
    name: "SigchldChildWatcher never reaps a Deno.Command child, and drops its listener when idle",
    ignore: !unix,
    fn: () =>
      assertNoFdLeak(() =>
        withWatcher(new SigchldChildWatcher(), async () => {
          using loop = lc.make();
          const watcher = getEventLoopPolicy().getChildWatcher();
          assertEquals(watcher.name, "sigchld");
          const [ours, theirs] = await loop.runUntilComplete(async () => {
            // Deno's child exits while our SIGCHLD listener is active (it fires for it too).
            const command = new Deno.Command("sh", { args: ["-c", "exit 5"] }).output();
            const [t, p] = await loop.subprocessExec(() => new Recorder(), ["sleep", "0.3"], {
              stdin: DEVNULL,
              stdout: DEVNULL,
              stderr: DEVNULL,
            });
            assertEquals(watcher.size, 1);
            const out = await command;
            await p.done.promise;
            t.close();
            return [t.getReturncode(), out.code];
          });
          assertEquals([ours, theirs], [0, 5]);
          assertEquals(watcher.size, 0); // the sanitizers check the listener is gone
        })
      ),
  });
});

forOneLoop(["subprocesses", "childWatchers", "signals"], (lc, test) => {
  test({
    name: "a signal handler (SIGUSR1) and the SIGCHLD watcher share a loop",
    ignore: !unix,
    fn: () =>
      assertNoFdLeak(() =>
        withWatcher(new SigchldChildWatcher(), async () => {
          using loop = lc.make();
          const got: string[] = [];
          loop.addSignalHandler("SIGUSR1", () => got.push("usr1"));
          const code = await loop.runUntilComplete(async () => {
            const [t, p] = await loop.subprocessExec(() => new Recorder(), ["sleep", "0.1"], {
              stdin: DEVNULL,
              stdout: DEVNULL,
              stderr: DEVNULL,
            });
            Deno.kill(Deno.pid, "SIGUSR1");
            await p.done.promise;
            t.close();
            while (got.length === 0) await new Promise<void>((r) => loop.callLater(5, r));
            return t.getReturncode();
          });
          loop.removeSignalHandler("SIGUSR1");
          assertEquals([code, got], [0, ["usr1"]]);
        })
      ),
  });
}, 1);

forOneLoop(["subprocesses", "childWatchers"], (lc, test) => {
  test({
    name: "policy: getChildWatcher() makes the best kind; setChildWatcher() checks and swaps",
    ignore: !unix,
    fn: () =>
      assertNoFdLeak(async () => {
        const policy = new DefaultEventLoopPolicy();
        const current = policy.getChildWatcher();
        assertEquals(
          current.name,
          PIDFD ? "pidfd" : Deno.build.os === "darwin" ? "kqueue" : "sigchld",
        );
        assert(policy.getChildWatcher() === current);
        // deno-lint-ignore no-explicit-any
        assertThrows(() => policy.setChildWatcher({} as any), TypeError);

        // A replaced watcher is closed but still reaps the child it watches.
        using loop = lc.make();
        const first = new SigchldChildWatcher();
        policy.setChildWatcher(first);
        try {
          const code = await loop.runUntilComplete(async () => {
            const [t, p] = await loop.subprocessExec(() => new Recorder(), ["sleep", "0.1"], {
              stdin: DEVNULL,
              stdout: DEVNULL,
              stderr: DEVNULL,
            });
            policy.setChildWatcher(null);
            assert(!first.isActive());
            assertThrows(() => first.addChildHandler(1, () => {}, { loop }), Error, "closed");
            await p.done.promise;
            t.close();
            return t.getReturncode();
          });
          assertEquals(code, 0);
          assertEquals(first.size, 0);
        } finally {
          policy.setChildWatcher(null);
        }
      }),
  });
});

forOneLoop(["childWatchers", "readers"], (lc, test) => {
  test({
    name:
      "AbstractChildWatcher: bad pids and callbacks throw; removeChildHandler() stops the report",
    ignore: !PIDFD,
    fn: () =>
      assertNoFdLeak(async () => {
        using watcher = new PidfdChildWatcher();
        using loop = lc.make();
        assertThrows(() => watcher.addChildHandler(0, () => {}, { loop }), RangeError);
        // deno-lint-ignore no-explicit-any
        assertThrows(() => watcher.addChildHandler(1, 42 as any, { loop }), TypeError);
        const child = spawnProcess(["sleep", "0.05"]);
        let called = false;
        watcher.addChildHandler(child.pid, () => called = true, { loop });
        assert(watcher.removeChildHandler(child.pid));
        assert(!watcher.removeChildHandler(child.pid));
        // Reap it ourselves, now that no watcher does.
        while (waitpidNoHang(child.pid) === null) await new Promise((r) => setTimeout(r, 10));
        assert(!called);
      }),
  });
});

Deno.test({
  name:
    "KqueueEmulation: EVFILT_PROC reports NOTE_EXIT with the status, once; ESRCH for no process",
  ignore: !linux,
  fn: () =>
    assertNoFdLeak(async () => {
      const api = new KqueueEmulation();
      const kq = api.kqueue();
      try {
        const change = new Uint8Array(KEVENT_SIZE);
        setProcExitKevent(new DataView(change.buffer), 0, 0x7ffffff0); // no such process
        assertEquals(api.kevent(kq, change, 1, null, 0, null), -1);
        assertEquals(api.errno(), 3); // ESRCH

        const child = spawnProcess(["sh", "-c", "exit 7"]);
        setProcExitKevent(new DataView(change.buffer), 0, child.pid);
        assertEquals(api.kevent(kq, change, 1, null, 0, null), 0);
        // The kqueue fd turns readable once the exit is pending, as a real one does.
        const pfd = new Uint8Array(POLLFD_SIZE);
        setPollfd(new DataView(pfd.buffer), 0, kq, POLLIN);
        assertEquals(await libc().poll_async(pfd, 1, 5000), 1);
        assert(pollfdRevents(new DataView(pfd.buffer), 0) & POLLIN);
        const events = new Uint8Array(4 * KEVENT_SIZE);
        const zero = new Uint8Array(TIMESPEC_SIZE);
        writeTimespec(new DataView(zero.buffer), 0);
        assertEquals(api.kevent(kq, null, 0, events, 4, zero), 1);
        const ev = decodeKevent(new DataView(events.buffer), 0);
        assertEquals([ev.ident, ev.filter], [child.pid, EVFILT_PROC]);
        assertEquals(ev.fflags, (NOTE_EXIT | NOTE_EXITSTATUS) >>> 0);
        assertEquals(ev.data, 7 << 8); // a wait status: WEXITSTATUS 7
        assertEquals(api.kevent(kq, null, 0, events, 4, zero), 0); // EV_ONESHOT
        assertEquals(waitpidNoHang(child.pid)?.returncode, 7); // the event did not reap
      } finally {
        api.close(kq);
      }
    }),
});

const SIGINT_SCRIPT = `
import { run, sleep } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
const stubborn = Deno.args[0] === "stubborn";
try {
  await run(async (signal) => {
    console.log("started");
    setTimeout(() => Deno.kill(Deno.pid, "SIGINT"), 10);
    if (stubborn) {
      // Ignores its cancellation: only a second SIGINT ends it.
      setTimeout(() => Deno.kill(Deno.pid, "SIGINT"), 200);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
    try {
      await sleep(10_000, { signal });
    } catch (e) {
      console.log("main:", e.name);
      throw e;
    }
  });
} catch (e) {
  console.log("run:", e.name);
}
console.log("end");
`;

async function runSigintScript(arg: string): Promise<Deno.CommandOutput & { text: string }> {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/sigint_main.ts`;
  Deno.writeTextFileSync(path, SIGINT_SCRIPT);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-ffi", "--allow-read", "--allow-run", path, arg],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return Object.assign(out, { text: new TextDecoder().decode(out.stdout) });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test({
  name: "run(): the first SIGINT cancels main, and run() rejects with Interrupted",
  ignore: !unix,
  fn: async () => {
    const out = await runSigintScript("plain");
    assertEquals(out.text, "started\nmain: CancelledError\nrun: Interrupted\nend\n");
    assertEquals(out.code, 0);
  },
});

Deno.test({
  name: "run(): a second SIGINT ends the process (Deno's default action)",
  ignore: !unix,
  fn: async () => {
    const out = await runSigintScript("stubborn");
    assertStringIncludes(out.text, "started\n");
    assert(!out.text.includes("end"), out.text);
    assertEquals(out.signal, "SIGINT");
  },
});
