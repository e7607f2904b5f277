package dev.slipway.networking.ports;

/** The servers the tests run inside their namespaces. */
final class GuestSide {
    private GuestSide() {
    }

    /** A TCP and UDP echo server on port 7 (asyncio: one thread, thousands of connections). */
    static final String ECHO_SERVER = """
            import asyncio
            async def handle(r, w):
                try:
                    while True:
                        d = await r.read(262144)
                        if not d:
                            break
                        w.write(d)
                        await w.drain()
                except ConnectionError:
                    pass
                finally:
                    w.close()
            class Udp(asyncio.DatagramProtocol):
                def connection_made(self, t):
                    self.t = t
                def datagram_received(self, d, a):
                    self.t.sendto(d, a)
            async def main():
                loop = asyncio.get_running_loop()
                await loop.create_datagram_endpoint(Udp, local_addr=('0.0.0.0', 7))
                s = await asyncio.start_server(handle, '0.0.0.0', 7, backlog=4096)
                async with s:
                    await s.serve_forever()
            asyncio.run(main())
            """;
}
