// Echo server on Node's `net`: every 'data' chunk is written back.
// Run: node bench/echo/node_server.mjs [--port=0]; SIGUSR2 prints the memory, SIGTERM exits.
import net from "node:net";

const portArg = process.argv.find((a) => a.startsWith("--port="));
const server = net.createServer({ noDelay: true }, (sock) => {
  sock.on("data", (data) => sock.write(data));
  sock.on("error", () => {}); // a reset by the client at the end of a run
});
server.listen(
  { host: "127.0.0.1", port: portArg ? Number(portArg.slice(7)) : 0, backlog: 1024 },
  () => {
    console.log(JSON.stringify({ port: server.address().port }));
  },
);
process.on("SIGTERM", () => {
  server.close();
  process.exit(0);
});
process.on("SIGUSR2", () => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  console.log(
    JSON.stringify({ mem: { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss } }),
  );
});
