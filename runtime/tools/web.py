"""``har web``: serves the companion web app (``runtime/web``) and the engine files it loads.

Standard library only. Routes: ``/...`` are the files of the web folder (its ``node_modules`` from
``npm ci`` included); ``/data/engine.onnx`` and ``/data/sample_recording.npz`` come from the runtime's
data folder, so the page and the Python runtime use the same files. JavaScript and WebAssembly are
sent gzip-compressed to browsers that accept it (the onnxruntime-web wasm is 14 MB raw, 3.7 MB
gzipped). No cross-origin isolation headers: the page runs onnxruntime-web on one thread.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import socket
import ssl
import sys
import threading
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parents[1] / "web"      # runtime/web of a source checkout
DATA_DIR = Path(__file__).resolve().parents[1] / "data"    # runtime/data
DATA_FILES = ("engine.onnx", "sample_recording.npz")
ORT_ENTRY = Path("node_modules/onnxruntime-web/dist/ort.wasm.min.mjs")
ORT_RUNTIME = ("ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs", ORT_ENTRY.name)  # what the page loads
MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".npz": "application/octet-stream",
    ".csv": "text/csv; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".png": "image/png",
}
COMPRESSIBLE = {".js", ".mjs", ".wasm", ".css", ".html", ".onnx", ".csv"}


def check_web_dir(web_dir: Path, data_dir: Path) -> None:
    """Raise FileNotFoundError with the fix when the app or its engine files are not there."""
    if not (web_dir / "index.html").is_file():
        raise FileNotFoundError(f"{web_dir}: no index.html (the web app ships in a source checkout, "
                                f"runtime/web; pass --dir)")
    if not (web_dir / ORT_ENTRY).is_file():
        raise FileNotFoundError(f"{web_dir / ORT_ENTRY} is missing: run `npm ci` in {web_dir} first")
    if not (data_dir / "engine.onnx").is_file():
        raise FileNotFoundError(f"{data_dir / 'engine.onnx'} is missing: build it with `har export-engine`")


class _Handler(http.server.SimpleHTTPRequestHandler):
    web_dir: Path = WEB_DIR
    data_dir: Path = DATA_DIR
    quiet = False
    _gzip_cache: dict = {}
    _gzip_lock = threading.Lock()

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(self.web_dir), **kwargs)

    def translate_path(self, path):
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean.startswith("/data/") and clean[len("/data/"):] in DATA_FILES:
            return str(self.data_dir / clean[len("/data/"):])
        return super().translate_path(path)

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts_gzip and path.suffix in COMPRESSIBLE and path.is_file()):
            return super().do_GET()
        body = self._gzipped(path)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @classmethod
    def _gzipped(cls, path: Path) -> bytes:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with cls._gzip_lock:
            if key not in cls._gzip_cache:
                cls._gzip_cache[key] = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
            return cls._gzip_cache[key]

    @classmethod
    def warm(cls, paths) -> None:
        """Compress the big files ahead of the first request (the wasm takes about half a second)."""
        for path in paths:
            if path.is_file():
                cls._gzipped(path)

    def log_message(self, format, *args):
        if not self.quiet:
            super().log_message(format, *args)


def make_server(host: str = "127.0.0.1", port: int = 8000, *, web_dir: Path | str = WEB_DIR,
                data_dir: Path | str = DATA_DIR, certfile: str | None = None, keyfile: str | None = None,
                quiet: bool = False) -> http.server.ThreadingHTTPServer:
    """An HTTP(S) server for the web app; ``port`` 0 picks a free one (``server.server_address``).

    Parameters
    ----------
    host, port : str, int
        Address to listen on; 127.0.0.1 is reachable from this machine only.
    web_dir, data_dir : path
        The app folder (index.html, node_modules) and the folder holding engine.onnx and
        sample_recording.npz.
    certfile, keyfile : str, optional
        PEM certificate and key: serve HTTPS (phones allow motion sensors on HTTPS pages only,
        localhost aside).
    """
    web_dir, data_dir = Path(web_dir).resolve(), Path(data_dir).resolve()
    check_web_dir(web_dir, data_dir)
    handler = type("Handler", (_Handler,), {"web_dir": web_dir, "data_dir": data_dir, "quiet": quiet})
    server = http.server.ThreadingHTTPServer((host, port), handler)
    dist = web_dir / ORT_ENTRY.parent
    threading.Thread(target=handler.warm, daemon=True, args=([dist / name for name in ORT_RUNTIME],)).start()
    if certfile:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def _lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, from its own host name (no traffic)."""
    try:
        addresses = socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        return []
    return sorted(a for a in set(addresses) if not a.startswith("127."))


def add_parser(sub) -> None:
    p = sub.add_parser("web", help="serve the companion web app on this machine")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 for other devices on the network)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--cert", help="PEM certificate: serve HTTPS (needed by phones, localhost aside)")
    p.add_argument("--key", help="PEM private key of --cert")
    p.add_argument("--dir", default=str(WEB_DIR), help="web app folder (default: runtime/web of this checkout)")
    p.add_argument("--data", default=str(DATA_DIR), help="folder with engine.onnx and sample_recording.npz")


def run(args) -> int:
    if bool(args.cert) != bool(args.key):
        print("har web: --cert and --key go together", file=sys.stderr)
        return 2
    server = make_server(args.host, args.port, web_dir=args.dir, data_dir=args.data,
                         certfile=args.cert, keyfile=args.key)
    host, port = server.server_address[:2]
    scheme = "https" if args.cert else "http"
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    print(f"har web: serving {args.dir} at {scheme}://{shown}:{port}/  "
          f"(replay: {scheme}://{shown}:{port}/?replay=sample; Ctrl-C stops)", flush=True)
    if host == "0.0.0.0":
        for address in _lan_addresses():
            print(f"har web: from a phone on this network: {scheme}://{address}:{port}/"
                  + ("" if args.cert else "  (motion sensors need --cert/--key: HTTPS)"), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m har.runtime.tools.web")
    add_parser(parser.add_subparsers(dest="command", required=True))
    sys.exit(run(parser.parse_args(["web", *sys.argv[1:]])))
