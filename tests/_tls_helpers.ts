/**
 * Helpers of the TLS tests: certificates made with the `openssl` CLI into a
 * temporary directory (a CA, a server certificate for localhost/127.0.0.1,
 * an expired one, one for a wrong name, one from an untrusted CA), and
 * peers run as processes (`openssl s_server`/`s_client`, CPython asyncio).
 *
 * @module
 */
import type { Transport } from "../mod.ts";
import { Recorder } from "./_stream_helpers.ts";

/** The PEM texts (and files) the tests use. */
export interface TestCerts {
  dir: string;
  /** The test CA's certificate (trusted through `caCerts`). */
  ca: string;
  caFile: string;
  /** A server certificate for DNS:localhost and IP:127.0.0.1, signed by the CA. */
  cert: string;
  certFile: string;
  key: string;
  keyFile: string;
  /** Signed by the CA for localhost, but expired. */
  expired: string;
  expiredFile: string;
  /** Signed by the CA, valid, for DNS:wrong.example only. */
  wrong: string;
  wrongFile: string;
  /** For localhost, signed by a CA nobody trusts. */
  untrusted: string;
  untrustedFile: string;
  /** A client certificate signed by the CA. */
  clientCert: string;
  clientCertFile: string;
}

async function run(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

let certs: Promise<TestCerts> | undefined;

/** Makes the certificates once per test process (the directory is removed at exit). */
export function testCerts(): Promise<TestCerts> {
  return certs ??= makeCerts();
}

async function makeCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "aio_tls_" });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  });
  const ca = async (name: string) => {
    await run([
      "req",
      "-x509",
      ...EC,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "30",
      "-subj",
      `/CN=aio test ${name}`,
    ], dir);
  };
  await ca("ca");
  await ca("evil");
  const leaf = async (name: string, cn: string, san: string, signer: string, days: string) => {
    await run(
      ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`],
      dir,
    );
    await Deno.writeTextFile(`${dir}/${name}.ext`, `subjectAltName=${san}\n`);
    await run([
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${signer}.pem`,
      "-CAkey",
      `${signer}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      days,
      "-extfile",
      `${name}.ext`,
    ], dir);
  };
  await leaf("server", "localhost", "DNS:localhost,IP:127.0.0.1", "ca", "30");
  await leaf("expired", "localhost", "DNS:localhost,IP:127.0.0.1", "ca", "-1");
  await leaf("wrong", "wrong.example", "DNS:wrong.example", "ca", "30");
  await leaf("untrusted", "localhost", "DNS:localhost,IP:127.0.0.1", "evil", "30");
  await leaf("client", "aio client", "DNS:client.example", "ca", "30");
  const read = (f: string) => Deno.readTextFileSync(`${dir}/${f}`);
  return {
    dir,
    ca: read("ca.pem"),
    caFile: `${dir}/ca.pem`,
    cert: read("server.pem"),
    certFile: `${dir}/server.pem`,
    key: read("server.key"),
    keyFile: `${dir}/server.key`,
    expired: read("expired.pem"),
    expiredFile: `${dir}/expired.pem`,
    wrong: read("wrong.pem"),
    wrongFile: `${dir}/wrong.pem`,
    untrusted: read("untrusted.pem"),
    untrustedFile: `${dir}/untrusted.pem`,
    clientCert: read("client.pem"),
    clientCertFile: `${dir}/client.pem`,
  };
}

/** The key of a certificate made by {@linkcode testCerts} (`server`, `expired`, ...). */
export function keyOf(c: TestCerts, name: string): string {
  return Deno.readTextFileSync(`${c.dir}/${name}.key`);
}

/**
 * One in-memory handshake, so that OpenSSL opens what it keeps open for the
 * whole process (its random device; libffi's closure page) before the fd-leak checks start.
 */
export async function warmOpenSsl(): Promise<void> {
  const { TlsContext, TlsSession } = await import("../ffi/openssl/mod.ts");
  const c = await testCerts();
  const base = {
    verify: false,
    systemStore: false,
    caCerts: [],
    cert: null,
    key: null,
    alpnProtocols: [],
    minVersion: "TLSv1.2" as const,
  };
  const cctx = new TlsContext({ ...base, serverSide: false });
  // With ALPN: the first FFI callback of a process also opens an fd of libffi's, for good.
  const sctx = new TlsContext({
    ...base,
    serverSide: true,
    cert: c.cert,
    key: c.key,
    alpnProtocols: ["warm"],
  });
  const cl = new TlsSession(cctx, { serverSide: false });
  const sv = new TlsSession(sctx, { serverSide: true });
  const buf = new Uint8Array(65536);
  try {
    for (let i = 0; i < 8; i++) {
      cl.handshake();
      for (let n; (n = cl.takeOutgoing(buf)) > 0;) sv.feed(buf, n);
      sv.handshake();
      for (let n; (n = sv.takeOutgoing(buf)) > 0;) cl.feed(buf, n);
    }
  } finally {
    cl.free();
    sv.free();
    cctx.release();
    sctx.release();
  }
}

/** Sends `data` in 64 KiB writes while not paused, and records what it receives. */
export class Pump extends Recorder {
  #sent = 0;
  #paused = false;
  /** How many times the transport paused the writer. */
  pauses = 0;
  /** What to send. */
  readonly data: Uint8Array;
  /** Close the transport once `closeAfter` bytes were received. */
  closeAfter: number | null = null;

  constructor(data: Uint8Array) {
    super();
    this.data = data;
  }
  override connectionMade(t: Transport): void {
    super.connectionMade(t);
    this.#pump();
  }
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.#maybeClose();
  }
  // With closeAfter: close once everything was written and enough was received.
  #maybeClose(): void {
    if (
      this.closeAfter !== null && this.received >= this.closeAfter &&
      this.#sent === this.data.byteLength && !this.transport.isClosing()
    ) this.transport.close();
  }
  override pauseWriting(): void {
    this.#paused = true;
    this.pauses++;
  }
  override resumeWriting(): void {
    this.#paused = false;
    this.#pump();
  }
  #pump(): void {
    while (!this.#paused && this.#sent < this.data.byteLength && !this.transport.isClosing()) {
      const end = Math.min(this.#sent + 65536, this.data.byteLength);
      this.transport.write(this.data.subarray(this.#sent, end));
      this.#sent = end;
    }
    this.#maybeClose();
  }
}

/** A TCP port nothing listens on now (bound, then closed). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Reads all of `stream` into one array. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of stream) {
    chunks.push(c);
    n += c.byteLength;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Writes `data` to `stream` (and keeps it open unless `close`). */
export async function writeAll(
  stream: WritableStream<Uint8Array>,
  data: Uint8Array,
  close = true,
): Promise<WritableStreamDefaultWriter<Uint8Array>> {
  const w = stream.getWriter();
  for (let at = 0; at < data.byteLength; at += 1 << 20) {
    await w.write(data.subarray(at, Math.min(at + (1 << 20), data.byteLength)));
  }
  if (close) await w.close();
  return w;
}
