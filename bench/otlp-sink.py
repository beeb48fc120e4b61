#!/usr/bin/env python3
"""OTLP/HTTP (protobuf) sink for the benchmark: answers every export at once, keeps nothing but counts.

POST /v1/traces counts spans per service.name; /v1/metrics and /v1/logs count requests. GET /counts returns the counts as JSON.
Usage: otlp-sink.py PORT. Standard library only (it walks the protobuf by field number, enough to count spans).
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {"spans": {}, "requests": {}, "bytes": 0}
lock = threading.Lock()


def fields(buf):
    """Yields (field number, value) of one protobuf message; value is bytes for length-delimited fields, else None."""
    i, n = 0, len(buf)
    while i < n:
        key, i = varint(buf, i)
        wire = key & 7
        if wire == 0:
            _, i = varint(buf, i)
            yield key >> 3, None
        elif wire == 1:
            i += 8
            yield key >> 3, None
        elif wire == 2:
            size, i = varint(buf, i)
            yield key >> 3, buf[i:i + size]
            i += size
        elif wire == 5:
            i += 4
            yield key >> 3, None
        else:
            raise ValueError(f"wire type {wire}")


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def service_name(resource):
    for f, kv in fields(resource):
        if f == 1:
            parts = dict(fields(kv))
            if parts.get(1) == b"service.name":
                return dict(fields(parts[2])).get(1, b"").decode()
    return "?"


def count_spans(body):
    # ExportTraceServiceRequest{1: ResourceSpans{1: Resource, 2: ScopeSpans{2: Span}}}
    for f, resource_spans in fields(body):
        if f != 1:
            continue
        service, spans = "?", 0
        for g, value in fields(resource_spans):
            if g == 1:
                service = service_name(value)
            elif g == 2:
                spans += sum(1 for h, _ in fields(value) if h == 2)
        with lock:
            counts["spans"][service] = counts["spans"].get(service, 0) + spans


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            counts["requests"][self.path] = counts["requests"].get(self.path, 0) + 1
            counts["bytes"] += len(body)
        if self.path.endswith("/v1/traces"):
            count_spans(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        with lock:
            data = json.dumps(counts).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
