// UDP echo server on Node's `dgram`: each 'message' is sent back to its sender.
// Run: node bench/udp/node_udp_server.mjs [--port=0]
import dgram from "node:dgram";

const portArg = process.argv.find((a) => a.startsWith("--port="));
const sock = dgram.createSocket("udp4");
sock.on("message", (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
sock.bind(portArg ? Number(portArg.slice(7)) : 0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: sock.address().port }));
});
process.on("SIGTERM", () => sock.close(() => process.exit(0)));
