#!/usr/bin/env python3
"""A small OpenAI-ish stand-in engine for testing Start-FseServer -Engine External and -Url (process management only).

It serves /health, /v1/models and a deterministic /v1/completions (streamed or not), reports its FSE switch from the
environment variable VLLM_ROCM_USE_AITER_FUSION_SHARED_EXPERTS as "fse", writes a line per request to stdout, and on
SIGTERM says so and exits 0 (unless --ignore-sigterm). --startup-delay delays listening; --fail exits 3 with an error.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--model", default="standin-moe")
    p.add_argument("--api-key", default=None)
    p.add_argument("--startup-delay", type=float, default=0.0)
    p.add_argument("--fail", default=None, help="exit 3 with this error message instead of serving")
    p.add_argument("--ignore-sigterm", action="store_true")
    args = p.parse_args()

    print(f"standin: starting (pid {os.getpid()})", flush=True)
    if args.fail:
        print(f"standin: error: {args.fail}", file=sys.stderr, flush=True)
        sys.exit(3)
    time.sleep(args.startup_delay)
    fse = os.environ.get("VLLM_ROCM_USE_AITER_FUSION_SHARED_EXPERTS")
    fse = {"1": "on", "0": "off"}.get(fse, "unknown")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            print("standin: " + (fmt % a), flush=True)

        def _send(self, code, body, ctype="application/json"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self):
            return args.api_key is None or self.headers.get("Authorization") == f"Bearer {args.api_key}"

        def do_GET(self):
            if self.path == "/health":
                return self._send(200, "")
            if self.path == "/v1/models":
                if not self._authorized():
                    return self._send(401, json.dumps({"error": {"message": "bad key", "type": "authentication_error", "param": None, "code": None}}))
                return self._send(200, json.dumps({"object": "list", "data": [
                    {"id": args.model, "object": "model", "owned_by": "standin", "max_model_len": 4096, "fse": fse}]}))
            self._send(404, json.dumps({"error": {"message": "not found", "type": "not_found_error", "param": None, "code": None}}))

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path != "/v1/completions":
                return self._send(404, "{}")
            n = int(body.get("max_tokens", 16))
            words = [f" w{i}" for i in range(n)]
            usage = {"prompt_tokens": 3, "completion_tokens": n, "total_tokens": 3 + n}
            if not body.get("stream"):
                return self._send(200, json.dumps({"id": "cmpl-1", "object": "text_completion", "model": args.model,
                                                   "choices": [{"index": 0, "text": "".join(words), "finish_reason": "length"}], "usage": usage}))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for i, w in enumerate(words):
                chunk = {"id": "cmpl-1", "object": "text_completion", "model": args.model,
                         "choices": [{"index": 0, "text": w, "finish_reason": "length" if i == n - 1 else None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if (body.get("stream_options") or {}).get("include_usage"):
                self.wfile.write(f"data: {json.dumps({'id': 'cmpl-1', 'choices': [], 'usage': usage})}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True

    def on_term(signum, frame):
        if args.ignore_sigterm:
            print("standin: SIGTERM ignored", flush=True)
            return
        print("standin: SIGTERM, shutting down", flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    print(f"standin: listening on http://127.0.0.1:{args.port} (fse {fse})", flush=True)
    server.serve_forever()
    print("standin: stopped", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
