#!/usr/bin/env python3
"""Memory soak of the earn endpoint: a bounded run at a steady rate on two waitress processes
behind nginx, sampling each process's resident memory (VmRSS).

Sets up like bench/earn.py's nginx mode (a fresh database, members loaded through LPS's services,
config/production.ini served by one waitress process per core behind nginx), measures the peak
rate with a short closed-loop run (wrk, or earn.py's Python client), then sends earn requests at
half that rate (or --rate) for --minutes. A paced client (open loop: request k of connection j is
due at start + (k * connections + j) / rate, and its latency counts from that moment, so a slow
server cannot hide its queue) drives it, while every --sample-seconds the script reads VmRSS from
/proc/<pid>/status of each waitress process.

After the warm-up (--warmup-minutes), each process must grow by less than --max-growth (10%) from
its RSS at the end of the warm-up to its last sample, every answer must be a 201 (no other status,
no socket error), the database must hold exactly one bill per 201 and the ledger must not drift.
Prints a table (time, RSS per process, req/s, p99, errors) and exits 1 on failure. See bench/README.md.

    .venv/bin/python bench/soak.py --minutes 10
"""
import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import earn  # noqa: E402  (bench/earn.py: database, data, ini, servers, wrk, CPU accounting)
from earn import log  # noqa: E402


def rss_kib(pid):
    """Resident set size of a process in KiB (VmRSS of /proc/<pid>/status), None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def bill_count(url):
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        n = connection.execute(text("SELECT count(*) FROM bills")).scalar_one()
    engine.dispose()
    return n


# ---------------------------------------------------------------- the paced client


class Window:
    """What was answered since the last sample."""

    def __init__(self):
        self.created = 0
        self.other = 0  # answers other than 201
        self.socket_errors = 0
        self.latencies = []
        self.statuses = {}

    def add(self, status, latency):
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 201:
            self.created += 1
        else:
            self.other += 1
        self.latencies.append(latency)

    @property
    def answered(self):
        return self.created + self.other

    @property
    def errors(self):
        return self.other + self.socket_errors


def percentile(values, q):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


async def read_response(reader):
    """Status of one HTTP/1.1 response; reads its body (Content-Length or chunked) off the stream."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection", "").lower() == "close"


async def paced_load(port, key, cards, rate, connections, seconds, on_sample, sample_seconds, run_id="soak"):
    """Open-loop load at `rate` requests/s over `connections` keep-alive connections for `seconds`.
    Calls on_sample(elapsed, window) every `sample_seconds`; returns the totals (a Window)."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    end = start + seconds
    state = {"window": Window(), "total": Window(), "late": 0}
    headers = (f"Host: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
               f"Authorization: Bearer {key}\r\n")

    async def connect():
        return await asyncio.open_connection("127.0.0.1", port)

    async def worker(j):
        rnd = random.Random(j)
        reader = writer = None
        k = 0
        while True:
            due = start + (k * connections + j) / rate
            if due >= end:
                break
            k += 1
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:
                state["late"] += 1  # sent more than 100 ms after it was due: the server is behind
            body = json.dumps({"card_no": rnd.choice(cards), "bill_no": f"{run_id}-{j}-{k}",
                               "amount": f"{rnd.randint(1, 999)}.{rnd.randint(0, 99):02d}"}).encode()
            request = (f"POST /api/v1/transactions HTTP/1.1\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
                       .encode() + body)
            try:
                if writer is None:
                    reader, writer = await connect()
                writer.write(request)
                status, close = await asyncio.wait_for(read_response(reader), timeout=30)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                    ValueError, IndexError):
                state["window"].socket_errors += 1
                state["total"].socket_errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            latency = loop.time() - due  # from when it was due, not from when it was sent
            state["window"].add(status, latency)
            state["total"].add(status, latency)
            if close:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    async def sampler():
        n = 1
        while True:
            await asyncio.sleep(max(0.0, start + n * sample_seconds - loop.time()))
            window, state["window"] = state["window"], Window()
            on_sample(loop.time() - start, window)
            n += 1

    sampling = asyncio.ensure_future(sampler())
    await asyncio.gather(*(worker(j) for j in range(connections)))
    sampling.cancel()
    window = state["window"]
    on_sample(loop.time() - start, window)  # the rest since the last sample
    state["total"].late = state["late"]
    return state["total"]


# ---------------------------------------------------------------- main


def measure_peak(args, tmp, port, key, cards):
    """Closed-loop req/s at --clients connections (a short warm-up, then --peak-seconds)."""
    client = "wrk" if shutil.which("wrk") else "python"
    drive = earn.run_wrk if client == "wrk" else (lambda tmp, *a: earn.run_python(*a))
    drive(tmp, port, key, cards, args.clients, 3, "pw")
    result = drive(tmp, port, key, cards, args.clients, args.peak_seconds, "pm")
    log(f"peak: {result['rps']:.0f} req/s at {args.clients} connections ({client}), p99 {result['p99']:.1f} ms, "
        f"errors {result['errors']}")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10, help="length of the soak (10)")
    parser.add_argument("--warmup-minutes", type=float, default=1,
                        help="the first minutes, after which the RSS baseline is taken (1)")
    parser.add_argument("--rate", type=float, help="requests/s to send (default: half the measured peak)")
    parser.add_argument("--fraction", type=float, default=0.5, help="share of the peak to send (0.5)")
    parser.add_argument("--peak-seconds", type=int, default=15, help="length of the peak measurement (15)")
    parser.add_argument("--clients", type=int, default=16, help="connections for the peak measurement (16)")
    parser.add_argument("--connections", type=int, default=16, help="connections of the paced client (16)")
    parser.add_argument("--sample-seconds", type=float, default=5, help="RSS sampling interval (5)")
    parser.add_argument("--print-seconds", type=float, default=30, help="a table row every so many seconds (30)")
    parser.add_argument("--max-growth", type=float, default=0.10, help="allowed RSS growth after the warm-up (0.10)")
    parser.add_argument("--json", help="also write the samples and the verdict here as JSON")
    earn.add_server_arguments(parser, database="lps_bench_soak")
    args = parser.parse_args(argv)
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        parser.error("nginx is not installed: apt-get install nginx")
    if args.warmup_minutes >= args.minutes:
        parser.error("--warmup-minutes must be shorter than --minutes")

    import lps_core

    log(f"soak of lps_core from {Path(lps_core.__file__).parent}, config {args.ini}")
    url = earn.database_url(args.server, args.database)
    tmp = earn.make_tmp()
    earn.stop_on_sigterm()
    procs = earn.Processes()
    created_db = False
    samples, peak = [], None
    try:
        earn.create_database(args.server, args.database)
        created_db = True
        key, cards = earn.load_data(url, args.members)
        ini = earn.write_ini(tmp, args.threads, url, args.ini, args.set)
        port, pids = earn.start_servers(procs, "nginx", tmp, ini, url, args.processes, args.nginx_workers,
                                        args.nginx_keepalive)
        waitress = pids["waitress"]
        if args.rate:
            rate = args.rate
        else:
            peak = measure_peak(args, tmp, port, key, cards)
            rate = round(peak["rps"] * args.fraction)
        time.sleep(1)  # let the requests in flight at wrk's cut-off finish
        bills_before = bill_count(url)
        seconds = args.minutes * 60
        log(f"soak: {rate:.0f} req/s over {args.connections} connections for {seconds:.0f} s on "
            f"{len(waitress)} waitress processes {waitress} behind nginx")
        header = (f"{'time s':>7} " + " ".join(f"{'RSS MiB ' + str(p):>14}" for p in waitress)
                  + f" {'req/s':>7} {'p99 ms':>7} {'errors':>6}")
        print(header, flush=True)
        cpu = {}
        printed = {"t": 0.0, "windows": []}

        def on_sample(elapsed, window):
            rss = [rss_kib(p) for p in waitress]
            samples.append({"t": round(elapsed, 1), "rss_kib": rss, "answered": window.answered,
                            "errors": window.errors, "p99_ms": round(percentile(window.latencies, 99) * 1000, 1)})
            if "before" not in cpu and elapsed >= args.warmup_minutes * 60:
                cpu["before"], cpu["t0"] = earn.cpu_snapshot(pids, args.database), time.monotonic()
            printed["windows"].append(window)
            span = elapsed - printed["t"]
            if span >= args.print_seconds - 0.01 or elapsed >= seconds:
                windows = printed["windows"]
                latencies = [x for w in windows for x in w.latencies]
                print(f"{elapsed:7.0f} " + " ".join(f"{(r or 0) / 1024:14.1f}" for r in rss)
                      + f" {sum(w.answered for w in windows) / max(span, 1e-9):7.0f}"
                      f" {percentile(latencies, 99) * 1000:7.1f} {sum(w.errors for w in windows):>6}", flush=True)
                printed["t"], printed["windows"] = elapsed, []

        total = asyncio.run(paced_load(port, key, cards, rate, args.connections, seconds, on_sample,
                                       args.sample_seconds))
        cpu_split = earn.cpu_split(cpu["before"], earn.cpu_snapshot(pids, args.database),
                                   time.monotonic() - cpu["t0"]) if "before" in cpu else None
        alive = [rss_kib(p) is not None for p in waitress]
        procs.stop_all()
        checked = earn.verify(url)
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        return 130
    finally:
        procs.stop_all()
        if created_db:
            earn.drop_database(args.server, args.database)
        shutil.rmtree(tmp, ignore_errors=True)

    # ---- verdict
    warm = args.warmup_minutes * 60
    after = [s for s in samples if s["t"] >= warm]
    failures = []
    growth = []
    if not after:
        failures.append("no sample after the warm-up")
    else:
        for i, pid in enumerate(waitress):
            base, last = after[0]["rss_kib"][i], after[-1]["rss_kib"][i]
            peak_rss = max(s["rss_kib"][i] or 0 for s in after)
            if not base or not last:
                failures.append(f"waitress {pid} exited")
                growth.append(None)
                continue
            g = (last - base) / base
            growth.append(g)
            print(f"waitress {pid}: RSS {base / 1024:.1f} MiB after the warm-up -> {last / 1024:.1f} MiB at the end "
                  f"({g:+.1%}; highest {peak_rss / 1024:.1f} MiB)")
            if g >= args.max_growth:
                failures.append(f"waitress {pid} grew by {g:.1%} (limit {args.max_growth:.0%})")
    if not all(alive):
        failures.append("a waitress process exited during the soak")
    soak_bills = checked["bills"] - bills_before
    duration = samples[-1]["t"] if samples else 0
    of_peak = f" ({args.fraction:.0%} of the peak {peak['rps']:.0f})" if peak else ""
    print(f"sent at {rate:.0f} req/s{of_peak}: answered "
          f"{total.answered} in {duration:.0f} s = {total.answered / max(duration, 1):.0f} req/s; statuses "
          f"{total.statuses}; socket errors {total.socket_errors}; sent >100 ms late: {total.late}; "
          f"p50 {percentile(total.latencies, 50) * 1000:.1f} ms, p99 {percentile(total.latencies, 99) * 1000:.1f} ms "
          f"(from when each request was due)")
    if total.late > 0.01 * max(total.answered, 1):
        print(f"WARNING: the servers fell behind the rate ({total.late} requests sent more than 100 ms after they "
              f"were due): the latencies include the wait; the memory check still holds")
    if cpu_split:
        print(f"cores busy after the warm-up: {cpu_split['total']} of {os.cpu_count()} = waitress "
              f"{cpu_split['waitress']} + nginx {cpu_split['nginx']} + postgres {cpu_split['postgres']} + load "
              f"generator and sampler {cpu_split['load_generator']} + other {cpu_split['other']}"
              f"{'  (other processes used the CPU)' if cpu_split['other'] > 0.2 else ''}")
    print(f"bills written during the soak {soak_bills}, 201s {total.created}; ledger drift: "
          f"{len(checked['drift'])} accounts")
    if total.errors:
        failures.append(f"{total.errors} errors (answers other than 201, or socket errors)")
    if soak_bills != total.created:
        failures.append(f"{soak_bills} bills written but {total.created} answered 201")
    if checked["drift"]:
        failures.append(f"ledger drift on {len(checked['drift'])} accounts")
    print("soak: " + ("PASSED" if not failures else "FAILED: " + "; ".join(failures)))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "rate": rate, "peak": peak and {k: peak[k] for k in ("rps", "p50", "p99", "errors")},
            "waitress": waitress, "samples": samples, "growth": growth, "cpu": cpu_split,
            "statuses": total.statuses, "socket_errors": total.socket_errors, "late": total.late,
            "p50_ms": percentile(total.latencies, 50) * 1000, "p99_ms": percentile(total.latencies, 99) * 1000,
            "bills": soak_bills, "drift": checked["drift"], "failures": failures}, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
