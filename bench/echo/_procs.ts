/**
 * Process plumbing shared by the echo drivers: compiling the C programs,
 * the list of servers, starting a server pinned to a core and waiting for
 * its port, asking it for its memory, and stopping it with SIGTERM.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** bench/echo/ */
export const ECHO_DIR: string = fileURLToPath(new URL(".", import.meta.url));
/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));
/** Where the C programs are built (git-ignored). */
export const CACHE: string = `${ROOT}.cache/echo/`;
const DENO = Deno.execPath();

/** A server of the matrix. */
export interface ServerSpec {
  /** Short id used in the JSON and the tables. */
  id: string;
  /** What the tables call it. */
  label: string;
  /** The command, without pinning. */
  cmd: string[];
  /** Runs the V8 engine (it can report its JS heap). */
  js: boolean;
  /** Why it can't run here, if it can't. */
  missing?: string;
  /** An A/B variant: it runs only when `--only` names it. */
  optIn?: boolean;
}

/** Runs a command to completion; its stdout, trimmed, or throws with its stderr. */
export async function output(cmd: string[]): Promise<string> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`${cmd.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/** Compiles load_client.c and c_epoll_server.c with `gcc -O2` into .cache/echo/. */
export async function compileC(): Promise<void> {
  await Deno.mkdir(CACHE, { recursive: true });
  for (const name of ["load_client", "c_epoll_server"]) {
    await output(["gcc", "-O2", "-Wall", "-o", `${CACHE}${name}`, `${ECHO_DIR}${name}.c`]);
  }
}

/** Whether `python` can import uvloop. */
async function hasUvloop(python: string): Promise<boolean> {
  try {
    await output([python, "-c", "import uvloop"]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Python to run the asyncio and uvloop peers with: Debian's /usr/bin/python3
 * (where `python3-uvloop` installs) when it has uvloop, so both use the same
 * interpreter; else `python3` and no uvloop.
 */
export async function pickPython(): Promise<{ python: string; uvloop: boolean }> {
  for (const python of ["/usr/bin/python3", "python3"]) {
    if (await hasUvloop(python)) return { python, uvloop: true };
  }
  return { python: "python3", uvloop: false };
}

/** Every server of the benchmark, in table order. */
export async function serverSpecs(gcFlags = false): Promise<ServerSpec[]> {
  const { python, uvloop } = await pickPython();
  const noUvloop = uvloop ? undefined : "uvloop is not installed (apt-get install python3-uvloop)";
  const streams = await exists(`${ROOT}streams/mod.ts`)
    ? undefined
    : "streams/mod.ts does not exist yet";
  const v8gc = gcFlags ? ["--v8-flags=--expose-gc"] : [];
  const deno = (file: string, perm: string, ...args: string[]) => [
    DENO,
    "run",
    perm,
    ...v8gc,
    `${ECHO_DIR}${file}`,
    ...args,
  ];
  const py = (file: string, ...args: string[]) => [python, `${ECHO_DIR}${file}`, ...args];
  return [
    {
      id: "aio_epoll",
      label: "aio protocol, epoll",
      cmd: deno("aio_protocol_server.ts", "--allow-ffi", "--selector=epoll"),
      js: true,
    },
    {
      id: "aio_buffered",
      label: "aio buffered, epoll",
      cmd: deno("aio_protocol_server.ts", "--allow-ffi", "--selector=epoll", "--buffered"),
      js: true,
    },
    {
      id: "aio_epoll_glibc",
      label: "aio protocol, glibc's malloc thresholds",
      cmd: deno("aio_protocol_server.ts", "--allow-ffi", "--selector=epoll", "--keep-freed=0"),
      js: true,
      optIn: true,
    },
    {
      id: "aio_poll",
      label: "aio protocol, poll",
      cmd: deno("aio_protocol_server.ts", "--allow-ffi", "--selector=poll"),
      js: true,
    },
    {
      id: "aio_select",
      label: "aio protocol, select",
      cmd: deno("aio_protocol_server.ts", "--allow-ffi", "--selector=select"),
      js: true,
    },
    {
      id: "aio_streams",
      label: "aio streams",
      cmd: deno("aio_streams_server.ts", "--allow-ffi"),
      js: true,
      missing: streams,
    },
    {
      id: "aio_sock",
      label: "aio sock_*",
      cmd: deno("aio_sock_server.ts", "--allow-ffi"),
      js: true,
    },
    {
      id: "deno_native",
      label: "Deno native",
      cmd: deno("deno_native_server.ts", "--allow-net"),
      js: true,
    },
    {
      id: "node",
      label: "Node net",
      cmd: ["node", ...(gcFlags ? ["--expose-gc"] : []), `${ECHO_DIR}node_server.mjs`],
      js: true,
    },
    {
      id: "asyncio_protocol",
      label: "asyncio protocol",
      cmd: py("asyncio_protocol_server.py"),
      js: false,
    },
    {
      id: "asyncio_streams",
      label: "asyncio streams",
      cmd: py("asyncio_streams_server.py"),
      js: false,
    },
    {
      id: "uvloop_protocol",
      label: "uvloop protocol",
      cmd: py("asyncio_protocol_server.py", "--uvloop"),
      js: false,
      missing: noUvloop,
    },
    {
      id: "uvloop_buffered",
      label: "uvloop buffered",
      cmd: py("asyncio_protocol_server.py", "--uvloop", "--buffered"),
      js: false,
      missing: noUvloop,
    },
    {
      id: "uvloop_streams",
      label: "uvloop streams",
      cmd: py("asyncio_streams_server.py", "--uvloop"),
      js: false,
      missing: noUvloop,
    },
    { id: "c_epoll", label: "C epoll", cmd: [`${CACHE}c_epoll_server`], js: false },
  ];
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `taskset` can pin to cores 0 and 1 here. */
export async function canPin(): Promise<boolean> {
  if (navigator.hardwareConcurrency < 2) return false;
  try {
    await output(["taskset", "-c", "1", "true"]);
    return true;
  } catch {
    return false;
  }
}

/** `cmd` pinned to `core` (unless pinning is off). */
export function pinned(cmd: string[], core: number, pin: boolean): string[] {
  return pin ? ["taskset", "-c", String(core), ...cmd] : cmd;
}

/** A running server: its port, and the JSON lines it printed after the port. */
export class RunningServer {
  readonly spec: ServerSpec;
  readonly port: number;
  readonly pid: number;
  #child: Deno.ChildProcess;
  #lines: Record<string, unknown>[];
  #waiters: Array<() => void>;
  #stderr: { text: string };

  private constructor(
    spec: ServerSpec,
    child: Deno.ChildProcess,
    port: number,
    lines: Record<string, unknown>[],
    waiters: Array<() => void>,
    stderr: { text: string },
  ) {
    this.spec = spec;
    this.#child = child;
    this.pid = child.pid;
    this.port = port;
    this.#lines = lines;
    this.#waiters = waiters;
    this.#stderr = stderr;
  }

  /**
   * Starts `spec` pinned to `core`, with RLIMIT_NOFILE raised to 20,000 (the
   * memory benchmark holds 10,000 connections); resolves once it printed its
   * port, rejects after `timeoutMs`.
   */
  static async start(
    spec: ServerSpec,
    core: number,
    pin: boolean,
    timeoutMs = 15_000,
  ): Promise<RunningServer> {
    // `exec` all the way down: the pid we hold is the server's own.
    const cmd = [
      "sh",
      "-c",
      'ulimit -n 20000 2>/dev/null; exec "$@"',
      "sh",
      ...pinned(spec.cmd, core, pin),
    ];
    const child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines: Record<string, unknown>[] = [];
    const waiters: Array<() => void> = [];
    const stderr = { text: "" };
    const portSeen = Promise.withResolvers<number>();
    (async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stderr) {
        stderr.text = (stderr.text + dec.decode(chunk)).slice(-4000);
      }
    })();
    (async () => {
      let rest = "";
      const dec = new TextDecoder();
      for await (const chunk of child.stdout) {
        rest += dec.decode(chunk, { stream: true });
        let nl;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          let obj: Record<string, unknown>;
          try {
            obj = JSON.parse(line);
          } catch {
            continue;
          }
          if (typeof obj.port === "number") portSeen.resolve(obj.port);
          else {
            lines.push(obj);
            waiters.splice(0).forEach((w) => w());
          }
        }
      }
      portSeen.reject(new Error(`${spec.id} exited before printing its port: ${stderr.text}`));
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${spec.id} printed no port within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const port = await Promise.race([portSeen.promise, timeout]);
      return new RunningServer(spec, child, port, lines, waiters, stderr);
    } catch (e) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last lines of the server's stderr. */
  get stderr(): string {
    return this.#stderr.text;
  }

  /**
   * The server's CPU time so far (user + system, ms) and its minor page
   * faults, from one read of /proc/<pid>/stat (NaN when it is gone).
   */
  async stat(): Promise<{ cpuMs: number; minorFaults: number }> {
    try {
      const stat = await readProc(`/proc/${this.pid}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // Fields 10, 14 and 15 (minflt, utime, stime) are 7, 11 and 12 after the command name;
      // the times in clock ticks.
      return { cpuMs: (Number(f[11]) + Number(f[12])) * 10, minorFaults: Number(f[7]) };
    } catch {
      return { cpuMs: NaN, minorFaults: NaN };
    }
  }

  /** VmRSS from /proc/<pid>/status, in bytes. */
  async rss(): Promise<number> {
    const status = await readProc(`/proc/${this.pid}/status`);
    const m = status.match(/^VmRSS:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : NaN;
  }

  /** Sends SIGUSR2 and resolves to the `{ mem }` line the server prints. */
  async memory(timeoutMs = 10_000): Promise<Record<string, number>> {
    const before = this.#lines.length;
    Deno.kill(this.pid, "SIGUSR2");
    const deadline = Date.now() + timeoutMs;
    while (this.#lines.length === before) {
      if (Date.now() > deadline) throw new Error(`${this.spec.id}: no memory report`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 200);
      });
    }
    return (this.#lines[this.#lines.length - 1] as { mem: Record<string, number> }).mem;
  }

  /**
   * SIGTERM, then waits up to `timeoutMs` for the exit. Returns whether the
   * server exited by itself with status 0 (else it is killed).
   */
  async stop(timeoutMs = 5000): Promise<{ clean: boolean; detail: string }> {
    try {
      Deno.kill(this.pid, "SIGTERM");
    } catch { /* already gone */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((r) => timer = setTimeout(() => r(null), timeoutMs));
    const status = await Promise.race([this.#child.status, late]);
    clearTimeout(timer);
    if (status === null) {
      this.#child.kill("SIGKILL");
      await this.#child.status;
      return { clean: false, detail: `no exit ${timeoutMs} ms after SIGTERM (killed)` };
    }
    return status.success ? { clean: true, detail: "exit 0" } : {
      clean: false,
      detail: `exit ${status.code}${status.signal ? ` (${status.signal})` : ""}: ${
        this.#stderr.text.slice(-300)
      }`,
    };
  }
}

/** Runs the load client (pinned to `core`) and parses its JSON line. */
export async function runClient(
  args: string[],
  core: number,
  pin: boolean,
  timeoutMs: number,
): Promise<Record<string, number | string>> {
  const cmd = pinned([`${CACHE}load_client`, ...args], core, pin);
  const child = new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder().decode(out.stdout).trim();
  const last = text.split("\n").pop() ?? "";
  try {
    return JSON.parse(last);
  } catch {
    return {
      error: `client ${
        out.success
          ? "printed no JSON"
          : `failed (${out.code}${out.signal ? ` ${out.signal}` : ""})`
      }: ${new TextDecoder().decode(out.stderr).slice(-200)}`,
    };
  }
}

/**
 * A /proc file's text. Deno asks for --allow-all to read /proc directly; `cat` needs only
 * --allow-run, which the drivers have anyway.
 */
export function readProc(path: string): Promise<string> {
  return output(["cat", path]);
}

/** Replaces the text between `<!-- name:begin -->` and `<!-- name:end -->` in `text`. */
export function replaceBlock(text: string, name: string, body: string): string {
  const begin = `<!-- ${name}:begin -->`, end = `<!-- ${name}:end -->`;
  const i = text.indexOf(begin), j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers ${begin} … ${end} not found`);
  return `${text.slice(0, i + begin.length)}\n\n${body.trim()}\n\n${text.slice(j)}`;
}

/** `text` as `deno fmt` lays out Markdown (line width 100), so the README stays formatted. */
export async function formatMarkdown(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "--line-width=100", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const out = await child.output();
  return out.success ? new TextDecoder().decode(out.stdout) : text;
}

/**
 * Rewrites one generated block of bench/README.md (other sections belong to
 * others: the file is re-read right before the write, and only the block changes).
 */
export async function updateReadme(name: string, body: string): Promise<void> {
  const path = `${ROOT}bench/README.md`;
  const formatted = await formatMarkdown(body);
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, replaceBlock(text, name, formatted));
}

/** The machine and the runtimes, for the report. */
export async function machineInfo(python: string): Promise<Record<string, string>> {
  const cpu = (await readProc("/proc/cpuinfo")).match(/^model name\s*:\s*(.*)$/m)?.[1] ??
    "?";
  const safe = async (cmd: string[]) => {
    try {
      return (await output(cmd)).split("\n")[0];
    } catch {
      return "n/a";
    }
  };
  return {
    cpu,
    cores: String(navigator.hardwareConcurrency),
    kernel: await safe(["uname", "-r"]),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    node: await safe(["node", "--version"]),
    python: await safe([python, "-c", "import sys; print(sys.version.split()[0])"]),
    uvloop: await safe([python, "-c", "import uvloop; print(uvloop.__version__)"]),
    gcc: await safe(["gcc", "-dumpfullversion"]),
  };
}
