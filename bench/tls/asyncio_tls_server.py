"""TLS echo server on CPython asyncio (or uvloop with --uvloop): a Protocol
whose data_received writes the bytes back, with an ssl.SSLContext.

Run: python3 bench/tls/asyncio_tls_server.py --cert=server.pem --key=server.key [--uvloop]
"""
import asyncio, json, signal, ssl, sys

args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if "=" in a)
if "--uvloop" in sys.argv:
    import uvloop
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args["cert"], args["key"])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", int(args.get("port", "0")), ssl=ctx, backlog=1024)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await stop
    server.close()


asyncio.run(main())
