import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
VERSION = {"Version": "20.10.24", "ApiVersion": "1.41", "MinAPIVersion": "1.12", "Os": "linux",
           "Arch": "amd64", "GitCommit": "slipway-test", "GoVersion": "go1.19", "KernelVersion": "6.1",
           "BuildTime": "2026-01-01T00:00:00.000000000+00:00",
           "Components": [{"Name": "Engine", "Version": "20.10.24", "Details": {"ApiVersion": "1.41"}}]}
INFO = {"ID": "SLIPWAY", "Name": "slipway-guest", "ServerVersion": "20.10.24", "OSType": "linux",
        "Architecture": "x86_64", "Containers": 0, "Images": 0, "Driver": "overlay2", "NCPU": 2,
        "MemTotal": 1073741824, "OperatingSystem": "responder", "KernelVersion": "6.1"}
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def reply(self, body, kind):
        data = body.encode()
        self.send_response(200)
        self.send_header("Api-Version", "1.41")
        self.send_header("Ostype", "linux")
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
    def do_GET(self):
        p = self.path.split("?")[0]
        if p.endswith("/_ping"):
            self.reply("OK", "text/plain")
        elif p.endswith("/version"):
            self.reply(json.dumps(VERSION), "application/json")
        elif p.endswith("/info"):
            self.reply(json.dumps(INFO), "application/json")
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
    do_HEAD = do_GET
import socketserver, sys, os
# engine-responder.py [tcp PORT | unix PATH]: the engine API's /_ping, /version and /info, for tests and benchmarks
if len(sys.argv) > 2 and sys.argv[1] == "unix":
    class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True
    class UH(H):
        def address_string(self):
            return "unix"
    if os.path.exists(sys.argv[2]):
        os.unlink(sys.argv[2])
    UnixServer(sys.argv[2], UH).serve_forever()
else:
    ThreadingHTTPServer(("0.0.0.0", int(sys.argv[2]) if len(sys.argv) > 2 else 2375), H).serve_forever()
