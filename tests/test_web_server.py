"""``har web``'s server without a browser: routes, types, compression, refusals."""

from __future__ import annotations

import gzip
import threading
import urllib.error
import urllib.request

import pytest

from har.runtime.tools.web import check_web_dir, make_server


@pytest.fixture
def site(tmp_path):
    web, data = tmp_path / "web", tmp_path / "data"
    dist = web / "node_modules/onnxruntime-web/dist"
    dist.mkdir(parents=True)
    data.mkdir()
    (web / "index.html").write_text("<!doctype html><title>t</title>")
    (dist / "ort.wasm.min.mjs").write_text("export const x = 1;\n" * 200)
    (dist / "ort-wasm-simd-threaded.wasm").write_bytes(b"\0asm" + bytes(4000))
    (data / "engine.onnx").write_bytes(b"onnx-bytes")
    (data / "secret.txt").write_text("not served")
    srv = make_server("127.0.0.1", 0, web_dir=web, data_dir=data, quiet=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _get(url, gzip_ok=False):
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gzip_ok else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers, r.read()


def test_types_and_data_route(site):
    status, headers, body = _get(site + "/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm")
    assert status == 200 and headers["Content-Type"] == "application/wasm" and body.startswith(b"\0asm")
    assert _get(site + "/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs")[1]["Content-Type"].startswith("text/javascript")
    status, headers, body = _get(site + "/data/engine.onnx?v=1")
    assert body == b"onnx-bytes" and headers["Content-Type"] == "application/octet-stream"
    assert "Cross-Origin-Embedder-Policy" not in headers


def test_gzip_when_accepted(site):
    status, headers, body = _get(site + "/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs", gzip_ok=True)
    assert headers["Content-Encoding"] == "gzip" and int(headers["Content-Length"]) == len(body)
    assert gzip.decompress(body) == ("export const x = 1;\n" * 200).encode()


@pytest.mark.parametrize("path", ["/data/secret.txt", "/data/../data/secret.txt", "/../data/engine.onnx"])
def test_only_the_engine_files_of_the_data_folder(site, path):
    with pytest.raises(urllib.error.HTTPError) as err:
        _get(site + path)
    assert err.value.code == 404


def test_missing_node_modules_says_run_npm_ci(tmp_path):
    (tmp_path / "index.html").write_text("x")
    (tmp_path / "engine.onnx").write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match=r"run `npm ci` in .* first"):
        check_web_dir(tmp_path, tmp_path)


def test_har_web_is_a_subcommand(capsys):
    from importlib.metadata import entry_points

    har = entry_points(group="console_scripts")["har"].load()      # wherever the command lives
    assert har(["web", "--cert", "only.pem"]) == 2
    assert "har web: --cert and --key go together" in capsys.readouterr().err


def test_lan_addresses_leave_out_loopback(monkeypatch):
    import socket

    from har.runtime.tools import web as web_server

    monkeypatch.setattr(socket, "gethostbyname_ex", lambda name: (name, [], ["127.0.1.1", "192.168.1.20"]))
    assert web_server._lan_addresses() == ["192.168.1.20"]
