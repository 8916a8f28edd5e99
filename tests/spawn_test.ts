/**
 * The low-level spawn and child-watching layer: `spawnProcess()` over
 * `posix_spawnp`, exits reaped through pidfd readiness in every selector,
 * `waitpidNoHang()` and the SIGCHLD fallback. Real processes, sanitizers on.
 */
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { type BaseSelector, EVENT_READ, PollSelector } from "../selectors/mod.ts";
import {
  closeFd,
  isNonBlocking,
  isOpenFd,
  LIBC_PATH,
  makePipe,
  readFd,
  setCloseOnExec,
  writeFd,
} from "../ffi/unix/libc.ts";
import { spawnFeatures, spawnProcess } from "../ffi/unix/spawn.ts";
import { type ChildExit, decodeWaitStatus, waitpidNoHang } from "../ffi/unix/wait.ts";
import { pidfdOpen, pidfdSendSignal, pidfdSupport, pidfdWait } from "../ffi/linux/pidfd.ts";
import { signalName, signalNumber } from "../ffi/unix/signals.ts";
import { decodeKevent, KEVENT_SIZE } from "../ffi/darwin/kevent.ts";
import { isProcExit, NOTE_EXITSTATUS, setProcExitKevent } from "../ffi/darwin/proc_exit.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { SELECTORS } from "./_selector_factories.ts";

const LINUX = Deno.build.os === "linux";
const UNIX = Deno.build.os !== "windows";
const PIDFD = LINUX && pidfdSupport().supported;
const dec = new TextDecoder();

/** Waits for the pidfd of `pid` to turn readable in `selector`, then reaps the child. */
async function reapWithPidfd(pid: number, selector: BaseSelector): Promise<ChildExit> {
  const pidfd = pidfdOpen(pid);
  try {
    selector.register(pidfd, EVENT_READ);
    for (;;) {
      const ready = await selector.selectAsync(10_000);
      assert(ready.length > 0, `child ${pid} did not exit within 10 s`);
      if (ready.some(([k]) => k.fd === pidfd)) break;
    }
    selector.unregister(pidfd);
    const exit = pidfdWait(pidfd);
    assert(exit !== null, "a readable pidfd must have an exit to reap");
    return exit;
  } finally {
    closeFd(pidfd);
  }
}

/** Reaps `pid` through a pidfd in a PollSelector (or by polling waitpid without pidfds). */
async function reap(pid: number): Promise<ChildExit> {
  if (PIDFD) {
    using sel = new PollSelector();
    return await reapWithPidfd(pid, sel);
  }
  for (let i = 0; i < 1000; i++) {
    const exit = waitpidNoHang(pid);
    if (exit !== null) return exit;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`child ${pid} did not exit`);
}

/** Reads the nonblocking `fd` until EOF, waiting for readability with a PollSelector. */
async function readAll(fd: number): Promise<string> {
  using sel = new PollSelector();
  sel.register(fd, EVENT_READ);
  const buf = new Uint8Array(4096);
  let out = "";
  for (;;) {
    const n = readFd(fd, buf);
    if (n === 0) return out + dec.decode();
    if (n > 0) out += dec.decode(buf.subarray(0, n), { stream: true });
    else await sel.selectAsync(10_000);
  }
}

/** Spawns `args` with stdout piped, reads it all and reaps the child. */
async function run(
  args: string[],
  options: Parameters<typeof spawnProcess>[1] = {},
): Promise<{ out: string; exit: ChildExit }> {
  const child = spawnProcess(args, { ...options, stdout: "pipe" });
  try {
    const out = await readAll(child.stdout!);
    return { out, exit: await reap(child.pid) };
  } finally {
    closeFd(child.stdout!);
  }
}

// waitid(P_ALL, 0, WEXITED | WNOHANG | WNOWAIT): looks for a zombie child without reaping it.
let peekLib:
  | Deno.DynamicLibrary<{ waitid: { parameters: ["i32", "i32", "buffer", "i32"]; result: "i32" } }>
  | undefined;
function zombieChild(): number {
  peekLib ??= Deno.dlopen(LIBC_PATH, {
    waitid: { parameters: ["i32", "i32", "buffer", "i32"], result: "i32" },
  });
  const info = new Uint8Array(128);
  const WNOWAIT = Deno.build.os === "darwin" ? 0x20 : 0x01000000;
  // -1 (ECHILD) when we have no children at all; si_pid 0 when none has exited.
  if (peekLib.symbols.waitid(0, 0, info, 4 | 1 | WNOWAIT) < 0) return 0;
  return new DataView(info.buffer).getInt32(16, true);
}

for (const c of SELECTORS) {
  Deno.test({
    name: `${c.name}: pidfd readiness reaps true (0), exit 3 and a SIGKILLed sleep (-9)`,
    ignore: !PIDFD,
    fn: () =>
      assertNoFdLeak(async () => {
        using sel = c.make();
        const t = spawnProcess(["true"]);
        assertEquals((await reapWithPidfd(t.pid, sel)).returncode, 0);
        const three = spawnProcess(["sh", "-c", "exit 3"]);
        const exit3 = await reapWithPidfd(three.pid, sel);
        assertEquals([exit3.pid, exit3.returncode, exit3.exitCode], [three.pid, 3, 3]);
        const sleeper = spawnProcess(["sleep", "10"]);
        Deno.kill(sleeper.pid, "SIGKILL");
        const killed = await reapWithPidfd(sleeper.pid, sel);
        assertEquals([killed.returncode, killed.exitCode, killed.signal], [-9, null, 9]);
        assertEquals(zombieChild(), 0);
      }),
  });
}

Deno.test({
  name: "spawnProcess() pipes stdout back (echo hello)",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(async () => {
      const child = spawnProcess(["echo", "hello"], { stdout: "pipe" });
      assert(child.stdout !== undefined && child.stdin === undefined && child.stderr === undefined);
      assert(isNonBlocking(child.stdout), "the parent's end is nonblocking");
      try {
        assertEquals(await readAll(child.stdout), "hello\n");
      } finally {
        closeFd(child.stdout);
      }
      assertEquals((await reap(child.pid)).returncode, 0);
    }),
});

Deno.test({
  name: 'spawnProcess() merges stderr into stdout with stderr: "stdout"',
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(async () => {
      const { out, exit } = await run(["sh", "-c", "echo out; echo err >&2; echo out2"], {
        stderr: "stdout",
      });
      assertEquals(out, "out\nerr\nout2\n");
      assertEquals(exit.returncode, 0);
    }),
});

Deno.test({
  name: "spawnProcess() pipes stderr separately",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(async () => {
      const child = spawnProcess(["sh", "-c", "echo out; echo err >&2"], {
        stdout: "pipe",
        stderr: "pipe",
      });
      try {
        const [out, err] = await Promise.all([readAll(child.stdout!), readAll(child.stderr!)]);
        assertEquals([out, err], ["out\n", "err\n"]);
      } finally {
        closeFd(child.stdout!);
        closeFd(child.stderr!);
      }
      assertEquals((await reap(child.pid)).returncode, 0);
    }),
});

Deno.test({
  name: "spawnProcess(): closing the stdin pipe gives cat its EOF",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(async () => {
      const child = spawnProcess(["cat"], { stdin: "pipe", stdout: "pipe" });
      try {
        assertEquals(writeFd(child.stdin!, new TextEncoder().encode("abc\n")), 4);
        closeFd(child.stdin!);
        assertEquals(await readAll(child.stdout!), "abc\n");
      } finally {
        closeFd(child.stdout!);
      }
      assertEquals((await reap(child.pid)).returncode, 0);
    }),
});

Deno.test({
  name: 'spawnProcess(): "null" streams read EOF and swallow output',
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(async () => {
      const { out, exit } = await run(["sh", "-c", "cat; echo done; echo hidden >&2"], {
        stdin: "null",
        stderr: "null",
      });
      assertEquals(out, "done\n");
      assertEquals(exit.returncode, 0);
    }),
});

Deno.test({
  name: "spawnProcess() gives the child an fd of ours as its stdout",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(async () => {
      const [r, w] = makePipe();
      try {
        const child = spawnProcess(["echo", "via fd"], { stdout: w });
        closeFd(w);
        assertEquals(await readAll(r), "via fd\n");
        assertEquals((await reap(child.pid)).returncode, 0);
      } finally {
        closeFd(r);
        if (isOpenFd(w)) closeFd(w);
      }
    }),
});

Deno.test({
  name: "spawnProcess() honours env (array and record), cwd and argv0",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(async () => {
      const env = await run(["sh", "-c", 'echo "$FOO|${HOME-unset}"'], { env: ["FOO=bar baz"] });
      assertEquals(env.out, "bar baz|unset\n");
      const rec = await run(["sh", "-c", 'echo "$A$B"'], { env: { A: "1", B: "=2" } });
      assertEquals(rec.out, "1=2\n");
      const dir = Deno.realPathSync(Deno.makeTempDirSync());
      try {
        if (spawnFeatures().chdir) {
          assertEquals((await run(["pwd"], { cwd: dir })).out, `${dir}\n`);
        } else {
          assertThrows(() => spawnProcess(["pwd"], { cwd: dir }), Deno.errors.NotSupported);
        }
      } finally {
        Deno.removeSync(dir);
      }
      assertEquals((await run(["sh", "-c", "echo $0"])).out, "sh\n");
      assertEquals((await run(["sh", "-c", "echo $0"], { argv0: "renamed" })).out, "renamed\n");
    }),
});

Deno.test({
  name: "spawnProcess(): a missing program is NotFound naming it, with no zombie and no fd left",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(() => {
      const e = assertThrows(
        () => spawnProcess(["no-such-program-aio"], { stdin: "pipe", stdout: "pipe" }),
        Deno.errors.NotFound,
        "no-such-program-aio",
      );
      assertEquals((e as Error & { code: string }).code, "ENOENT");
      assertThrows(() => spawnProcess(["/no/such/dir/prog"]), Deno.errors.NotFound, "/no/such");
      assertEquals(zombieChild(), 0, "no exited child may be left behind");
    }),
});

Deno.test({
  name: "spawnProcess(): a file without exec permission is PermissionDenied naming it",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(() => {
      const file = Deno.makeTempFileSync({ suffix: ".sh" });
      try {
        Deno.writeTextFileSync(file, "#!/bin/sh\nexit 0\n");
        Deno.chmodSync(file, 0o644);
        assertThrows(
          () => spawnProcess([file], { stdout: "pipe", stderr: "stdout" }),
          Deno.errors.PermissionDenied,
          file,
        );
        assertEquals(zombieChild(), 0);
      } finally {
        Deno.removeSync(file);
      }
    }),
});

Deno.test({
  name: "spawnProcess() refuses bad arguments before spawning",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(() => {
      const bad = spawnProcess as unknown as (a: unknown, o?: unknown) => unknown;
      assertThrows(() => bad([]), TypeError, "non-empty");
      assertThrows(() => bad("true"), TypeError);
      assertThrows(() => bad([42]), TypeError, "args[0]");
      assertThrows(() => spawnProcess(["echo", "a\0b"]), TypeError, "NUL");
      assertThrows(() => spawnProcess(["true"], { env: ["A=1\0"] }), TypeError, "NUL");
      assertThrows(() => spawnProcess(["true"], { env: ["NOEQUALS"] }), TypeError, "KEY=value");
      assertThrows(() => spawnProcess(["true"], { cwd: "/tmp\0x" }), TypeError, "NUL");
      assertThrows(() => spawnProcess(["true"], { argv0: "a\0" }), TypeError, "NUL");
      assertThrows(() => bad(["true"], { stdin: "bogus" }), TypeError, '"pipe"');
      assertThrows(() => bad(["true"], { stdout: "stdout" }), TypeError);
      assertThrows(() => spawnProcess(["true"], { stdout: -1 }), RangeError);
      assertThrows(() => spawnProcess(["true"], { stdout: 4000 }), Deno.errors.BadResource);
      assertThrows(() => spawnProcess(["true"], { pgroup: -2 }), RangeError);
      assertThrows(() => spawnProcess(["true"], { setsid: true, pgroup: 0 }), TypeError);
      assertEquals(zombieChild(), 0);
    }),
});

Deno.test({
  name: "spawnProcess() works when a pipe end or a given fd is on fd 0",
  ignore: !UNIX,
  async fn() {
    // In a separate Deno, so that closing fd 0 cannot disturb the test runner.
    const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const script = `
      import { closeFd, makeSocketPair, readFd, writeFd } from ${url("../ffi/unix/libc.ts")};
      import { spawnProcess } from ${url("../ffi/unix/spawn.ts")};
      import { waitpidNoHang } from ${url("../ffi/unix/wait.ts")};
      closeFd(0);
      const c = spawnProcess(["cat"], { stdin: "pipe", stdout: "pipe" });
      writeFd(c.stdin, new TextEncoder().encode("through fd 0"));
      closeFd(c.stdin);
      let out = "", exit = null;
      const buf = new Uint8Array(100);
      while (exit === null) {
        const n = readFd(c.stdout, buf);
        if (n > 0) out += new TextDecoder().decode(buf.subarray(0, n));
        else await new Promise((r) => setTimeout(r, 5));
        if (n === 0) exit = waitpidNoHang(c.pid);
      }
      // Now fd 0 is a socket, given as the child's stdout while its stdin becomes
      // /dev/null: the action for fd 0 must not change what stdout gets.
      const [a, b] = makeSocketPair();
      if (a !== 0) throw new Error("expected the socket on fd 0, got " + a);
      const e = spawnProcess(["echo", "to fd 0"], { stdin: "null", stdout: 0 });
      let echoed = "";
      for (let i = 0; i < 400 && !echoed.endsWith("\\n"); i++) {
        const n = readFd(b, buf);
        if (n > 0) echoed += new TextDecoder().decode(buf.subarray(0, n));
        else await new Promise((r) => setTimeout(r, 5));
      }
      while (waitpidNoHang(e.pid) === null) await new Promise((r) => setTimeout(r, 5));
      console.log(JSON.stringify({ out, code: exit.returncode, echoed }));
    `;
    const res = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", script],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = dec.decode(res.stderr);
    assertEquals(res.code, 0, err);
    assertEquals(JSON.parse(dec.decode(res.stdout)), {
      out: "through fd 0",
      code: 0,
      echoed: "to fd 0\n",
    });
  },
});

Deno.test({
  name: "spawnProcess(): the child gets SIGPIPE at its default action (Deno ignores it)",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(async () => {
      const { out, exit } = await run(["sh", "-c", "kill -PIPE $$; echo survived"]);
      assertEquals(out, "");
      assertEquals(exit.returncode, -signalNumber("SIGPIPE")!);
      assertEquals(signalName(exit.signal!), "SIGPIPE");
    }),
});

Deno.test({
  name: "spawnProcess() starts a new session with setsid, a new group with pgroup: 0",
  ignore: !LINUX,
  fn: () =>
    assertNoFdLeak(async () => {
      // Fields 5 and 6 of /proc/<pid>/stat: process group and session.
      const script = "read pid comm state ppid pgrp sid rest < /proc/self/stat; echo $pgrp $sid";
      const ours = (await run(["sh", "-c", script])).out.trim().split(" ");
      const s = spawnProcess(["sh", "-c", script], { setsid: true, stdout: "pipe" });
      try {
        assertEquals(await readAll(s.stdout!), `${s.pid} ${s.pid}\n`);
      } finally {
        closeFd(s.stdout!);
      }
      await reap(s.pid);
      const g = spawnProcess(["sh", "-c", script], { pgroup: 0, stdout: "pipe" });
      try {
        assertEquals(await readAll(g.stdout!), `${g.pid} ${ours[1]}\n`);
      } finally {
        closeFd(g.stdout!);
      }
      await reap(g.pid);
    }),
});

Deno.test({
  name: "spawnProcess() closes the other fds in the child unless closeOtherFds is false",
  ignore: !LINUX,
  fn: () =>
    assertNoFdLeak(async () => {
      const [r, w] = makePipe();
      try {
        setCloseOnExec(w, false); // an fd a careless library left inheritable
        const script = `if [ -e /proc/self/fd/${w} ]; then echo open; else echo closed; fi`;
        const closed = await run(["sh", "-c", script]);
        const open = await run(["sh", "-c", script], { closeOtherFds: false });
        assertEquals(open.out, "open\n");
        assertEquals(closed.out, spawnFeatures().closeFrom ? "closed\n" : "open\n");
      } finally {
        closeFd(r);
        closeFd(w);
      }
    }),
});

Deno.test({
  name: "our children and a Deno.Command child run side by side, each reaped by its owner",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(async () => {
      const ours = spawnProcess(["sh", "-c", "sleep 0.3; exit 7"]);
      const theirs = await new Deno.Command("sh", { args: ["-c", "exit 5"] }).output();
      assertEquals(theirs.code, 5);
      const exit = await reap(ours.pid);
      assertEquals([exit.pid, exit.returncode], [ours.pid, 7]);
      // And the other way round: theirs outlives ours.
      const slow = new Deno.Command("sh", { args: ["-c", "sleep 0.3; exit 6"] }).spawn();
      const quick = spawnProcess(["sh", "-c", "exit 8"]);
      assertEquals((await reap(quick.pid)).returncode, 8);
      assertEquals((await slow.status).code, 6);
    }),
});

Deno.test({
  name: "waitpidNoHang(): null while running, the exit once, then ECHILD",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(async () => {
      const child = spawnProcess(["sleep", "10"]);
      assertEquals(waitpidNoHang(child.pid), null);
      Deno.kill(child.pid, "SIGTERM");
      const exit = await reap(child.pid);
      assertEquals(exit.returncode, -signalNumber("SIGTERM")!);
      const e = assertThrows(() => waitpidNoHang(child.pid), Error, "waitpid");
      assertEquals((e as Error & { code: string }).code, "ECHILD");
      assertThrows(() => waitpidNoHang(-1), RangeError);
      assertThrows(() => waitpidNoHang(0), RangeError);
    }),
});

Deno.test({
  name: "the SIGCHLD fallback: a Deno SIGCHLD listener, then waitpidNoHang(pid)",
  ignore: !UNIX,
  fn: () =>
    assertNoFdLeak(async () => {
      const { promise, resolve } = Promise.withResolvers<ChildExit>();
      let pid = 0;
      const onChild = () => {
        const exit = pid === 0 ? null : waitpidNoHang(pid);
        if (exit !== null) resolve(exit);
      };
      Deno.addSignalListener("SIGCHLD", onChild);
      const keepAlive = setTimeout(() => {}, 10_000); // signal listeners don't keep Deno alive
      try {
        pid = spawnProcess(["sh", "-c", "exit 4"]).pid;
        onChild(); // the child may have exited before pid was known
        assertEquals((await promise).returncode, 4);
      } finally {
        clearTimeout(keepAlive);
        Deno.removeSignalListener("SIGCHLD", onChild);
      }
    }),
});

Deno.test({
  name: "pidfdSendSignal() signals the child; pidfdWait() is null while it runs",
  ignore: !PIDFD,
  fn: () =>
    assertNoFdLeak(async () => {
      const child = spawnProcess(["sleep", "10"]);
      const pidfd = pidfdOpen(child.pid);
      try {
        assertEquals(pidfdWait(pidfd), null);
        pidfdSendSignal(pidfd, signalNumber("SIGTERM")!);
      } finally {
        closeFd(pidfd);
      }
      assertEquals((await reap(child.pid)).signal, signalNumber("SIGTERM"));
      assertThrows(() => pidfdOpen(0), RangeError);
    }),
});

Deno.test({
  name: "pidfdSupport() reports what this kernel has",
  ignore: !LINUX,
  fn() {
    const s = pidfdSupport();
    assertInstanceOf(s, Object);
    if (!s.supported) assertStringIncludes(s.reason ?? "", "failed");
    console.log(
      `pidfd support here: ${JSON.stringify(s)}; spawn: ${JSON.stringify(spawnFeatures())}`,
    );
  },
});

Deno.test("decodeWaitStatus() decodes exits, signals and core dumps", () => {
  assertEquals(decodeWaitStatus(5, 0), {
    pid: 5,
    returncode: 0,
    exitCode: 0,
    signal: null,
    coreDumped: false,
  });
  assertEquals(decodeWaitStatus(5, 3 << 8)?.returncode, 3);
  assertEquals(decodeWaitStatus(5, 255 << 8)?.exitCode, 255);
  assertEquals(decodeWaitStatus(5, 9), {
    pid: 5,
    returncode: -9,
    exitCode: null,
    signal: 9,
    coreDumped: false,
  });
  assertEquals(decodeWaitStatus(5, 0x80 | 11)?.coreDumped, true);
  assertEquals(decodeWaitStatus(5, (19 << 8) | 0x7f), null); // stopped
  assertEquals(decodeWaitStatus(5, 0xffff), null); // continued
});

Deno.test("setProcExitKevent() writes the documented struct kevent bytes for EVFILT_PROC", () => {
  const view = new DataView(new ArrayBuffer(2 * KEVENT_SIZE));
  setProcExitKevent(view, 1, 0x1234);
  const bytes = new Uint8Array(view.buffer, KEVENT_SIZE, KEVENT_SIZE);
  // ident (u64) 0x1234, filter (i16) -5, flags (u16) EV_ADD|EV_ONESHOT = 0x11,
  // fflags (u32) NOTE_EXIT|NOTE_EXITSTATUS = 0x84000000, data 0, udata 0.
  assertEquals(
    [...bytes.subarray(0, 16)],
    [0x34, 0x12, 0, 0, 0, 0, 0, 0, 0xfb, 0xff, 0x11, 0x00, 0, 0, 0, 0x84],
  );
  assertEquals([...bytes.subarray(16)], new Array(16).fill(0));
  const ev = decodeKevent(view, 1);
  assert(isProcExit(ev));
  assertEquals(ev.fflags & NOTE_EXITSTATUS, NOTE_EXITSTATUS);
  assertThrows(() => setProcExitKevent(view, 0, 0), RangeError);
});
