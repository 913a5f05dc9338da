"""An HTTP peer on 127.0.0.1 whose GET sends part of a file, then waits until released: a transfer that
stays in progress for as long as a test needs to look at it; or, cut, one that the connection ends."""

import http.server
import threading


class StallingPeer:
    """cut: close the connection at stall_at instead of waiting (a download cut midway, every GET); a
    POST is always cut after stall_at bytes of its body, unanswered (an upload cut midway)."""

    def __init__(self, body, stall_at, cut=False):
        self.body = body
        self.stall_at = stall_at
        self.cut = cut
        self.gets = 0
        self.posts = 0
        self.release = threading.Event()
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                peer.gets += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(peer.body)))
                self.end_headers()
                self.wfile.write(peer.body[:peer.stall_at])
                self.wfile.flush()
                if peer.cut:
                    self.close_connection = True
                    return
                peer.release.wait(30)
                self.wfile.write(peer.body[peer.stall_at:])

            def do_POST(self):
                # an upload cut midway: part of the body read, then the connection dropped, no answer
                peer.posts += 1
                self.rfile.read(min(peer.stall_at, int(self.headers.get("Content-Length") or 0)))
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/fw.bin" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
