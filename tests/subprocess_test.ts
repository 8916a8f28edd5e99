/**
 * `loop.subprocessExec()`/`subprocessShell()` and the subprocess transport,
 * with real children, over every loop with subprocesses: return codes, the
 * order of the protocol calls, pipes, spawn options, failures, and no fd or
 * zombie left. Portable: the children are `CHILD` of `_subprocess_helpers.ts`
 * (the Unix tools on Unix, `cmd.exe` or a child `deno eval` printing the same
 * on Windows, where tests/windows/conformance_test.ts runs this file on the
 * ProactorEventLoop); what only Unix has (signals by number, sessions, argv0,
 * /proc, execute bits) runs on Unix only, with the reason in the test's name
 * on Windows.
 */
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { DEVNULL, PIPE, STDOUT } from "../mod.ts";
import type { SubprocessTransport, WriteTransport } from "../transports/base_transport.ts";
import type { UnixSubprocessTransport } from "../loop/unix/subprocess_transport.ts";
import { _childrenSettled } from "../loop/windows/windows_subprocess.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { forEachLoop, forOneLoop, type TestLoop } from "./_loops.ts";
import {
  CHILD,
  echoLines,
  isOurZombie,
  KILLED,
  Recorder,
  SHELL_EOL,
  zombieChild,
} from "./_subprocess_helpers.ts";

const unix = Deno.build.os !== "windows";

/** A transport with `wait()` (the Unix and the Windows subprocess transports have one). */
type Waitable = SubprocessTransport & { wait(): Promise<number> };

/** Reads stdin and writes it back with every "a" made a "b" (`tr a b`), in a `deno eval` script. */
const TR_A_B = "const t = await new Response(Deno.stdin.readable).text(); " +
  "Deno.stdout.writeSync(new TextEncoder().encode(t.replaceAll('a', 'b')))";

/**
 * A cmd.exe command that starts a grandchild `deno eval` sharing cmd's stdin and
 * stdout (`start /b`), then exits 0; the grandchild waits for EOF on stdin, then
 * writes "late\n" (no timing: the test decides when the grandchild lets go).
 */
const SPAWN_GRANDCHILD = `start /b "" "${Deno.execPath()}" eval "` +
  "await new Response(Deno.stdin.readable).arrayBuffer(); " +
  `Deno.stdout.writeSync(new TextEncoder().encode('late\\n'))"& exit 0`;

/** On Windows, " (ignored on Windows: WHY)" for a test's name; "" elsewhere. */
const unixOnly = (why: string) => unix ? "" : ` (ignored on Windows: ${why})`;

async function exec(
  loop: TestLoop,
  args: readonly string[],
  options?: Parameters<TestLoop["subprocessExec"]>[2],
): Promise<[SubprocessTransport, Recorder]> {
  return await loop.subprocessExec(() => new Recorder(), args, options);
}

forEachLoop(["subprocesses"], (lc, test) => {
  test({
    name: `${lc.tag}: subprocessExec() return codes 0, 3 and ${KILLED} after kill()`,
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
        const codes = await loop.runUntilComplete(async () => {
          const out: (number | null)[] = [];
          for (const args of [CHILD.ok, CHILD.exit3, CHILD.sleeper]) {
            const [t, p] = await exec(loop, args);
            if (args === CHILD.sleeper) t.kill();
            await p.done.promise;
            out.push(t.getReturncode());
            t.close();
          }
          return out;
        });
        assertEquals(codes, [0, 3, KILLED]);
        assertEquals(zombieChild(), 0);
      }),
  });

  test({
    name: `${lc.tag}: processExited() comes before connectionLost(), which follows every pipe`,
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
        const p = await loop.runUntilComplete(async () => {
          const [t, p] = await exec(loop, echoLines([[1, "out"], [2, "err"]]));
          await p.done.promise;
          t.close();
          return p;
        });
        const e = p.events;
        assertEquals(e[0], "made");
        assertEquals(e.at(-1), "lost");
        for (const ev of ["pipeLost0", "pipeLost1", "pipeLost2", "exited"]) {
          assert(e.indexOf(ev) > 0 && e.indexOf(ev) < e.length - 1, `${ev} in ${e}`);
        }
        assert(e.indexOf("data1") < e.indexOf("pipeLost1"));
        assertEquals([p.text(1), p.text(2)], ["out\n", "err\n"]);
      }),
  });

  test({
    name: `${lc.tag}: connectionLost() waits for a pipe a grandchild still holds`,
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
        const [p, exitedFirst] = await loop.runUntilComplete(async () => {
          if (!unix) {
            // cmd.exe starts a grandchild deno with its stdin and stdout, and exits; the
            // grandchild writes once stdin is closed. (A shell command: `start` is cmd's.)
            const [t, p] = await loop.subprocessShell(() => new Recorder(), SPAWN_GRANDCHILD, {
              stderr: DEVNULL,
            });
            assertEquals(await (t as Waitable).wait(), 0);
            const exitedFirst = !p.events.includes("pipeLost1");
            (t.getPipeTransport(0) as WriteTransport).close(); // now the grandchild writes
            await p.done.promise;
            t.close();
            return [p, exitedFirst] as const;
          }
          // The shell exits at once; its background job keeps stdout open, then writes.
          const [t, p] = await exec(loop, ["sh", "-c", "(sleep 0.2; echo late) & exit 0"], {
            stdin: DEVNULL,
            stderr: DEVNULL,
          });
          // wait() is about the process, not its pipes (a method of the Unix transport).
          assertEquals(await (t as UnixSubprocessTransport).wait(), 0);
          const exitedFirst = !p.events.includes("pipeLost1");
          await p.done.promise;
          t.close();
          return [p, exitedFirst] as const;
        });
        assert(exitedFirst, `the pipe closed before the exit: ${p.events}`);
        assert(p.events.indexOf("exited") < p.events.indexOf("pipeLost1"), `${p.events}`);
        assertEquals(p.events.at(-1), "lost");
        assertEquals(p.text(1), "late\n");
      }),
  });

  test({
    name: `${lc.tag}: stdout and stderr apart, and merged with STDOUT`,
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
        const script = echoLines([[1, "one"], [2, "two"], [1, "three"]]);
        const [apart, merged] = await loop.runUntilComplete(async () => {
          const [t1, p1] = await exec(loop, script, { stdin: DEVNULL });
          await p1.done.promise;
          t1.close();
          const [t2, p2] = await exec(loop, script, {
            stdin: DEVNULL,
            stderr: STDOUT,
          });
          assertEquals(t2.getPipeTransport(2), null);
          await p2.done.promise;
          t2.close();
          return [p1, p2];
        });
        assertEquals([apart.text(1), apart.text(2)], ["one\nthree\n", "two\n"]);
        assertEquals([merged.text(1), merged.text(2)], ["one\ntwo\nthree\n", ""]);
        assert(!merged.events.includes("pipeLost2"));
      }),
  });

  test({
    name: `${lc.tag}: closing stdin gives the child EOF; written data arrives first`,
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
        const p = await loop.runUntilComplete(async () => {
          const [t, p] = await exec(loop, CHILD.countBytes, { stdin: PIPE, stderr: DEVNULL });
          const stdin = t.getPipeTransport(0) as WriteTransport;
          stdin.write(new Uint8Array(12345));
          stdin.close();
          await p.done.promise;
          t.close();
          return p;
        });
        assertEquals(p.text(1).trim(), "12345");
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name:
      "subprocessExec(): a missing program is NotFound naming it, with no zombie and no fd left",
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
        const err = await loop.runUntilComplete(() =>
          assertRejects(() => exec(loop, ["no-such-program-aio-test"]), Deno.errors.NotFound)
        );
        assertStringIncludes(err.message, "no-such-program-aio-test");
        assertEquals(zombieChild(), 0);
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: "subprocessExec(): a file that is not executable is PermissionDenied naming it" +
      unixOnly("no execute permission bit"),
    ignore: !unix,
    fn: () =>
      assertNoFdLeak(async () => {
        const dir = Deno.makeTempDirSync();
        const path = `${dir}/not-executable.sh`;
        Deno.writeTextFileSync(path, "#!/bin/sh\necho hi\n", { mode: 0o644 });
        try {
          using loop = lc.make();
          const err = await loop.runUntilComplete(() =>
            assertRejects(() => exec(loop, [path]), Deno.errors.PermissionDenied)
          );
          assertStringIncludes(err.message, "not-executable.sh");
          assertEquals(zombieChild(), 0);
        } finally {
          Deno.removeSync(dir, { recursive: true });
        }
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: "subprocessExec(): cwd and env reach the child",
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
        const run = async (args: string[], options = {}) =>
          await loop.runUntilComplete(async () => {
            const [t, p] = await exec(loop, args, { stdin: DEVNULL, ...options });
            await p.done.promise;
            t.close();
            return p.text(1).trim();
          });
        if (unix) {
          assertEquals(await run(["pwd"], { cwd: "/" }), "/");
          assertEquals(await run(["sh", "-c", "echo $AIO_X"], { env: { AIO_X: "42" } }), "42");
        } else {
          assertEquals(await run(["cmd.exe", "/c", "cd"], { cwd: "C:\\" }), "C:\\");
          assertEquals(
            await run(["cmd.exe", "/c", "echo %AIO_X%"], { env: { AIO_X: "42" } }),
            "42",
          );
        }
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: "subprocessExec(): argv0, a new session, and no inherited fds" +
      unixOnly("no argv[0] apart, no sessions, no /proc"),
    ignore: !unix,
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
        const run = async (args: string[], options = {}) =>
          await loop.runUntilComplete(async () => {
            const [t, p] = await exec(loop, args, { stdin: DEVNULL, ...options });
            await p.done.promise;
            t.close();
            return p.text(1).trim();
          });
        assertEquals(await run(["sh", "-c", "echo $0"], { argv0: "renamed" }), "renamed");
        const sid = await run(["sh", "-c", "read a b c d e f rest < /proc/self/stat; echo $f"], {
          startNewSession: true,
        });
        assert(Number(sid) > 0 && Number(sid) !== Deno.pid);
        // Only 0, 1, 2 (and the fd ls reads the directory with) are open in the child.
        const fds = await run(["sh", "-c", "ls /proc/self/fd | wc -l"]);
        assert(Number(fds) <= 5, `child had ${fds} fds`);
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: unix
      ? "subprocessShell() runs /bin/sh -c; bad arguments throw TypeError"
      : "subprocessShell() runs %ComSpec% /c; bad arguments throw TypeError",
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
        // A pipeline: the shell's own work. On Windows a child deno stands in for tr.
        const line = unix ? "echo a | tr a b" : `echo a| "${Deno.execPath()}" eval "${TR_A_B}"`;
        const text = await loop.runUntilComplete(async () => {
          const [t, p] = await loop.subprocessShell(() => new Recorder(), line);
          await p.done.promise;
          t.close();
          return p.text(1);
        });
        assertEquals(text, `b${SHELL_EOL}`);
        await loop.runUntilComplete(async () => {
          await assertRejects(() => exec(loop, []), TypeError);
          await assertRejects(
            // deno-lint-ignore no-explicit-any
            () => loop.subprocessShell(() => new Recorder(), 42 as any),
            TypeError,
          );
          // deno-lint-ignore no-explicit-any
          await assertRejects(() => exec(loop, CHILD.ok, { shell: true } as any), TypeError);
          await assertRejects(() => exec(loop, CHILD.ok, { stdout: "bogus" as "pipe" }), TypeError);
        });
        assertEquals(zombieChild(), 0);
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: unix
      ? "UnixSubprocessTransport: signals, close() kills a running child, then ESRCH"
      : "WindowsSubprocessTransport: other signals than SIGTERM/SIGKILL refused, close() kills " +
        "a running child, then ESRCH (no signals by number, no self-signalling on Windows)",
    fn: () =>
      assertNoFdLeak(async () => {
        using loop = lc.make();
        await loop.runUntilComplete(async () => {
          const [t, p] = await exec(loop, CHILD.sleeper);
          assertEquals(t.getReturncode(), null);
          assert(t.getPid() > 0);
          if (unix) {
            assertThrows(() => t.sendSignal("SIGNOPE" as Deno.Signal), RangeError);
            (t as UnixSubprocessTransport).sendSignal(0); // a probe: the child is there (Unix)
          } else {
            // Console control events need a console process group: refused, the child runs on.
            assertThrows(() => t.sendSignal("SIGINT"), Deno.errors.NotSupported, "SIGINT");
            assertEquals(t.getReturncode(), null);
          }
          t.close();
          assert(t.isClosing());
          await p.done.promise;
          assertEquals(t.getReturncode(), KILLED);
          const err = assertThrows(() => t.terminate());
          assertEquals((err as { code?: string }).code, "ESRCH");
          if (!unix) return;

          const [t2, p2] = await exec(loop, ["sh", "-c", "kill -TERM $$; sleep 5"]);
          await p2.done.promise;
          assertEquals(t2.getReturncode(), -15);
          t2.close();
        });
        assertEquals(zombieChild(), 0);
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: unix
      ? "SelectorEventLoop.close() kills and reaps the children still running"
      : `${lc.name}.close() kills the children still running`,
    fn: () =>
      assertNoFdLeak(async () => {
        const loop = lc.make();
        const [pid, transport] = await loop.runUntilComplete(async () => {
          const [t] = await exec(loop, CHILD.sleeper, { stdin: DEVNULL, stdout: DEVNULL });
          return [t.getPid(), t] as const;
        });
        // The stderr pipe transport is still open: close it as its owner would.
        transport.getPipeTransport(2)?.close();
        await loop.runUntilComplete(() => new Promise<void>((r) => loop.callSoon(r)));
        loop.close();
        if (!unix) {
          await _childrenSettled(); // the exit watch saw the kill
          assertEquals(transport.getReturncode(), KILLED);
        }
        assert(!isOurZombie(pid));
        assertEquals(zombieChild(), 0);
      }),
  });
}, 2);
