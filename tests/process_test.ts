/**
 * `createSubprocessExec()`/`createSubprocessShell()` and `Process`, with
 * real children: `communicate()` both ways with large data, return codes,
 * pipes apart and merged, EOF on stdin, many children at once, the Web
 * streams, and `Deno.Command` running alongside. Portable: the children are
 * `CHILD` of `_subprocess_helpers.ts` (the Unix tools on Unix, `cmd.exe` or a
 * child `deno eval` printing the same on Windows, where
 * tests/windows/conformance_test.ts runs this file on the ProactorEventLoop);
 * shell commands are sh's on Unix and cmd.exe's on Windows, whose `echo`
 * ends lines with CRLF (`SHELL_EOL`).
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { DEVNULL, PIPE, STDOUT } from "../mod.ts";
import { Runner } from "../runner.ts";
import { createSubprocessExec, createSubprocessShell, Process } from "../streams/mod.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { forEachLoop, forOneLoop, type LoopCase } from "./_loops.ts";
import {
  CHILD,
  denoEval,
  isOurZombie,
  KILLED,
  pattern,
  SHELL_EOL,
  shellEcho,
  zombieChild,
} from "./_subprocess_helpers.ts";

const unix = Deno.build.os !== "windows";
const dec = new TextDecoder();
/** `lines` each ended as the shell's `echo` ends them. */
const shellLines = (...lines: string[]) => lines.map((l) => l + SHELL_EOL).join("");

/** Runs `main` on a fresh loop of `lc` (the running loop is what the calls use). */
async function runOn<T>(lc: LoopCase, main: () => Promise<T>): Promise<T> {
  await using runner = new Runner({ loopFactory: () => lc.make(), handleSigint: false });
  return await runner.run(main);
}

forEachLoop(["subprocesses"], (lc, test) => {
  test({
    name: `${lc.tag}: communicate() sends 10 MiB through cat and gets it back byte for byte`,
    fn: () =>
      assertNoFdLeak(async () => {
        const input = pattern(10 * 1024 * 1024);
        const [out, err, code] = await runOn(lc, async () => {
          const proc = await createSubprocessExec(CHILD.cat, { stdin: PIPE, stdout: PIPE });
          const [out, err] = await proc.communicate(input);
          return [out, err, proc.returncode];
        });
        assertEquals(code, 0);
        assertEquals(err, null);
        assertEquals(out!.length, input.length);
        assert(out!.every((b, i) => b === input[i]), "output differs from input");
        assertEquals(zombieChild(), 0);
      }),
  });

  test({
    name: `${lc.tag}: Process return codes 0, 3, and ${KILLED} after kill()`,
    fn: () =>
      assertNoFdLeak(async () => {
        const codes = await runOn(lc, async () => {
          const ok = await createSubprocessExec(CHILD.ok);
          const three = await createSubprocessShell("exit 3");
          const sleeper = await createSubprocessExec(CHILD.sleeper);
          assertEquals(sleeper.returncode, null);
          sleeper.kill();
          return [await ok.wait(), await three.wait(), await sleeper.wait(), sleeper.returncode];
        });
        assertEquals(codes, [0, 3, KILLED, KILLED]);
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: "Process: stdout and stderr kept apart, and merged with STDOUT",
    fn: () =>
      assertNoFdLeak(async () => {
        const script = shellEcho([[1, "out1"], [2, "err1"], [1, "out2"]]);
        const [apart, merged] = await runOn(lc, async () => {
          const a = await createSubprocessShell(script, { stdout: PIPE, stderr: PIPE });
          const m = await createSubprocessShell(script, { stdout: PIPE, stderr: STDOUT });
          assertEquals(m.stderr, null);
          return [await a.communicate(), await m.communicate()];
        });
        assertEquals(apart.map((b) => dec.decode(b!)), [
          shellLines("out1", "out2"),
          shellLines("err1"),
        ]);
        assertEquals(dec.decode(merged[0]!), shellLines("out1", "err1", "out2"));
        assertEquals(merged[1], null);
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: "Process: stdin.close() gives the child EOF; readline() and the Web streams work",
    fn: () =>
      assertNoFdLeak(async () => {
        const [lines, count, webText, code] = await runOn(lc, async () => {
          const sort = await createSubprocessExec(CHILD.sort, { stdin: PIPE, stdout: PIPE });
          sort.stdin!.write(new TextEncoder().encode("b\nc\na\n"));
          await sort.stdin!.drain();
          sort.stdin!.close(); // without the EOF, sort would never answer
          const lines: string[] = [];
          for (let line; (line = await sort.stdout!.readline()).length > 0;) {
            lines.push(dec.decode(line));
          }
          await sort.wait();

          const wc = await createSubprocessExec(CHILD.countLines, { stdin: PIPE, stdout: PIPE });
          wc.stdin!.close();
          const [count] = await wc.communicate();

          // The Web streams: pipe into stdin.writable, read stdout.readable.
          const tr = await createSubprocessExec(CHILD.upper, {
            stdin: PIPE,
            stdout: PIPE,
          });
          const body = ReadableStream.from([new TextEncoder().encode("hello web\n")]);
          const [, webText] = await Promise.all([
            body.pipeTo(tr.stdin!.writable),
            new Response(tr.stdout!.readable).text(),
          ]);
          return [lines, dec.decode(count!).trim(), webText, await tr.wait()];
        });
        assertEquals(lines, ["a\n", "b\n", "c\n"]);
        assertEquals(count, "0");
        assertEquals(webText, "HELLO WEB\n");
        assertEquals(code, 0);
      }),
  });
}, 2);

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: "Process: communicate() tolerates a child that exits without reading its input",
    fn: () =>
      assertNoFdLeak(async () => {
        const [out, code] = await runOn(lc, async () => {
          const proc = await createSubprocessShell("echo done", { stdin: PIPE, stdout: PIPE });
          const [out] = await proc.communicate(pattern(4 * 1024 * 1024));
          return [dec.decode(out!), proc.returncode];
        });
        assertEquals([out, code], [shellLines("done"), 0]);
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: "50 concurrent children: every one reaped with its own code, no zombie left",
    fn: () =>
      assertNoFdLeak(async () => {
        const results = await runOn(lc, async () => {
          const procs: Process[] = [];
          for (let i = 0; i < 50; i++) {
            procs.push(
              await createSubprocessShell(
                unix ? `echo ${i}; exit ${i % 7}` : `echo ${i}& exit ${i % 7}`,
                {
                  stdin: DEVNULL,
                  stdout: PIPE,
                },
              ),
            );
          }
          return await Promise.all(procs.map(async (p) => {
            const [out] = await p.communicate();
            return [p.pid, dec.decode(out!).trim(), p.returncode!] as const;
          }));
        });
        results.forEach(([pid, out, code], i) => {
          assertEquals([out, code], [String(i), i % 7]);
          assert(!isOurZombie(pid), `pid ${pid} is a zombie`);
        });
        assertEquals(zombieChild(), 0);
      }),
  });
}, 2);

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: "createSubprocessExec(): a missing program rejects with NotFound naming it",
    fn: () =>
      assertNoFdLeak(async () => {
        const err = await runOn(lc, () =>
          assertRejects(
            () => createSubprocessExec(["no-such-program-aio-proc"], { stdout: PIPE }),
            Deno.errors.NotFound,
          ));
        assertStringIncludes(err.message, "no-such-program-aio-proc");
        assertEquals(zombieChild(), 0);
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name: "Deno.Command runs alongside the loop's children, and both get their exit codes",
    fn: () =>
      assertNoFdLeak(async () => {
        const [ours, theirs] = await runOn(lc, async () => {
          // On Windows a child deno (it takes longer to start than sleep 0.1 on Unix).
          const [program, ...args] = unix
            ? ["sh", "-c", "sleep 0.1; echo deno; exit 4"]
            : denoEval("console.log('deno'); Deno.exit(4)");
          const command = new Deno.Command(program, { args }).output();
          const codes: number[] = [];
          for (let i = 0; i < 5; i++) {
            const p = await createSubprocessShell(`exit ${i}`);
            codes.push(await p.wait());
          }
          const out = await command;
          return [codes, [out.code, dec.decode(out.stdout)]] as const;
        });
        assertEquals(ours, [0, 1, 2, 3, 4]);
        assertEquals(theirs, [4, "deno\n"]);
      }),
  });
});
