"""A partner programme's side of the HTTP exchange, runnable on 127.0.0.1: the reference for a
partner's developers (README.md) and the real server the tests talk to.

It checks the request's authentication as the partner must (the HMAC signature within five minutes,
or the bearer token), books each transfer once under its direction and reference (a resend answers
the booking; the same reference with other content is 409), refuses unknown members with 422
naming `member_no`, reverses bookings, and answers the statement of a period. `faults` scripts what
goes wrong, one entry per coming write (a transfer's PUT or a reversal's POST; quotes and
statements are answered as they are), in order:

- "error": answer 500 and book nothing;
- "slow": book, then answer only after `slow_seconds` (the client gives up first: unknown outcome);
- "broken": book, then answer 200 with a body that is not JSON;
- "hangup": book, then close the connection without an answer.

    python -m lps_exchange_http.simulator --port 8099 --secret s3cret   # serve until Ctrl-C
"""
import argparse
import hmac
import json
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from lps_exchange_http.client import signature

MAX_SKEW_SECONDS = 300


class PartnerSimulator:
    def __init__(self, *, secret="s3cret", auth="hmac", rate=2, members=None, host="127.0.0.1", port=0,
                 base_path="/lps/v1"):
        self.secret, self.auth, self.rate = secret, auth, rate
        self.members = set(members or {"PM1001", "PM1002"})
        self.base_path = base_path
        self.bookings = {}  # (direction, reference) -> {"member_no", "lps_points", "partner_points", "booked_at", ...}
        self.requests = []  # (method, path, headers, body) of every request, as received
        self.faults = []
        self.slow_seconds = 2.0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}{base_path}"
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def booked_points(self, direction, reference):
        booking = self.bookings.get((direction, reference))
        return None if booking is None or booking["reversed"] else booking["partner_points"]

    # -- the protocol ---------------------------------------------------------------------------

    def handle(self, method, path, query, body) -> tuple[int, object]:
        parts = [unquote(part) for part in path.split("/") if part]
        if method == "POST" and parts == ["quotes"]:
            return self.quote(body)
        if method == "PUT" and len(parts) == 3 and parts[0] == "transfers":
            return self.book(parts[1], parts[2], body)
        if method == "POST" and len(parts) == 4 and parts[0] == "transfers" and parts[3] == "reversal":
            return self.reverse(parts[1], parts[2])
        if method == "GET" and parts == ["statement"]:
            return self.statement(query)
        return 404, {"message": f"no such resource {method} {path}"}

    def quote(self, body):
        direction, points = body.get("direction"), body.get("points")
        if direction not in ("in", "out") or not isinstance(points, int) or points < 1:
            return 400, {"message": "direction and points are required", "field": "points"}
        if direction == "out":
            return 200, {"lps_points": points, "partner_points": points * self.rate, "rate": f"1:{self.rate}"}
        if points % self.rate:
            return 422, {"message": f"points must be a multiple of {self.rate}", "field": "points"}
        return 200, {"lps_points": points // self.rate, "partner_points": points, "rate": f"{self.rate}:1"}

    def book(self, direction, reference, body):
        if body.get("member_no") not in self.members:
            return 422, {"message": "no such member", "field": "member_no"}
        content = {name: body.get(name) for name in ("member_no", "lps_points", "partner_points")}
        booking = self.bookings.get((direction, reference))
        if booking is not None:
            if {name: booking[name] for name in content} != content:
                return 409, {"message": "the reference was used for another transfer", "field": "reference"}
            return 200, self._receipt(direction, reference, booking)
        booking = {**content, "booked_at": datetime.now(timezone.utc), "reversed": False,
                   "partner_reference": f"P-{len(self.bookings) + 1}"}
        self.bookings[direction, reference] = booking
        return 201, self._receipt(direction, reference, booking)

    def _receipt(self, direction, reference, booking):
        return {"status": "done", "reference": reference, "direction": direction,
                "partner_points": booking["partner_points"], "partner_reference": booking["partner_reference"]}

    def reverse(self, direction, reference):
        booking = self.bookings.get((direction, reference))
        if booking is None:
            # Nothing booked, so nothing to undo: answered as reversed, so that cancelling a
            # transfer whose request never arrived succeeds.
            return 200, {"status": "reversed", "partner_reference": None}
        booking["reversed"] = True
        return 200, {"status": "reversed", "partner_reference": booking["partner_reference"] + "-R"}

    def statement(self, query):
        try:
            start = datetime.fromisoformat(query["from"][0])
            end = datetime.fromisoformat(query["to"][0])
        except (KeyError, ValueError):
            return 400, {"message": "from and to are required, ISO 8601 with an offset", "field": "from"}
        lines = [{"reference": reference, "direction": direction, "partner_points": booking["partner_points"],
                  "member_no": booking["member_no"], "booked_at": booking["booked_at"].isoformat()}
                 for (direction, reference), booking in sorted(self.bookings.items())
                 if not booking["reversed"] and start <= booking["booked_at"] < end]
        return 200, {"lines": lines}

    # -- authentication -------------------------------------------------------------------------

    def authenticated(self, method, target, headers, body) -> bool:
        if self.auth == "bearer":
            return hmac.compare_digest(headers.get("Authorization", ""), f"Bearer {self.secret}")
        if self.auth == "hmac":
            timestamp = headers.get("X-LPS-Timestamp", "")
            if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
                return False
            expected = "sha256=" + signature(self.secret, timestamp, method, target, body)
            return hmac.compare_digest(headers.get("X-LPS-Signature", ""), expected)
        return True

    def _handler(self):
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                simulator.requests.append((self.command, self.path, self.headers, raw))
                writes = self.command == "PUT" or self.path.split("?")[0].endswith("/reversal")
                with simulator.lock:
                    fault = simulator.faults.pop(0) if simulator.faults and writes else None
                    status, answer = self._answer(raw, fault)
                if fault == "slow":
                    time.sleep(simulator.slow_seconds)
                if fault == "hangup":
                    self.close_connection = True
                    return
                data = b"<html>Bad Gateway" if fault == "broken" else json.dumps(answer).encode()
                try:
                    self.send_response(200 if fault == "broken" else status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # LPS gave up waiting

            def _answer(self, raw, fault):
                parts = urlsplit(self.path)
                if not simulator.authenticated(self.command, self.path, self.headers, raw):
                    return 401, {"message": "the signature or token is not valid"}
                if fault == "error":
                    return 500, {"message": "internal error"}
                if not parts.path.startswith(simulator.base_path):
                    return 404, {"message": "not found"}
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    return 400, {"message": "the body is not JSON"}
                return simulator.handle(self.command, parts.path[len(simulator.base_path):],
                                        parse_qs(parts.query), body)

            do_GET = do_PUT = do_POST = _serve

            def log_message(self, *args):
                pass

        return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description="A partner programme for LPS's HTTP exchange, on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--secret", default="s3cret")
    parser.add_argument("--auth", choices=("hmac", "bearer", "none"), default="hmac")
    parser.add_argument("--rate", type=int, default=2, help="partner points per LPS point")
    parser.add_argument("--member", action="append", help="a member number the partner knows (repeatable)")
    args = parser.parse_args(argv)
    simulator = PartnerSimulator(secret=args.secret, auth=args.auth, rate=args.rate, members=args.member,
                                 port=args.port)
    print(f"partner at {simulator.url} (lps.exchange_http.base_url)")
    try:
        simulator.server.serve_forever()
    except KeyboardInterrupt:
        simulator.close()


if __name__ == "__main__":
    main()
