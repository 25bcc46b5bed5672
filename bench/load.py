"""Load generator of bench/load.sh (asyncio + aiohttp): uploaders and players against one server.

Uploaders are closed loops: each uploads a clip (POST /v1/media, raw body), makes it public,
polls it until it is ready or failed, then uploads the next, so at most UPLOADERS uploads and
their transcodes are in flight. Players are closed loops too: each picks a ready item, fetches
its HLS master playlist, a media playlist, the init segment and up to three media segments, and
starts again. After the duration no new upload starts; the items already uploaded get `--drain`
seconds to finish. Prints one JSON document: counts, errors (with a sample), latency
percentiles per kind of request, and the server's RSS samples if a PID was given.
"""

import argparse
import asyncio
import json
import random
import re
import time
from pathlib import Path

import aiohttp


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


class Stats:
    def __init__(self):
        self.latency = {}  # kind -> [ms]
        self.errors = []  # (kind, description)
        self.uploaded = []  # media ids
        self.ready = set()
        self.failed = {}  # id -> error

    def ok(self, kind, ms):
        self.latency.setdefault(kind, []).append(ms)

    def error(self, kind, what):
        self.errors.append((kind, what))


async def timed(stats, kind, session, method, url, **kw):
    """Sends one request; records its latency or an error. Returns (status, body bytes) or None."""
    t0 = time.monotonic()
    try:
        async with session.request(method, url, **kw) as r:
            body = await r.read()
            ms = (time.monotonic() - t0) * 1000
            if r.status >= 400:
                stats.error(kind, f"{method} {url.split('/v1/')[-1][:60]} -> {r.status} {body[:120]!r}")
                return None
            stats.ok(kind, ms)
            return r.status, body
    except (aiohttp.ClientError, asyncio.TimeoutError) as e:
        stats.error(kind, f"{method} {url.split('/v1/')[-1][:60]}: {type(e).__name__} {e}")
        return None


async def uploader(n, args, session, auth, clips, stats, ready_pool, stop_at):
    i = 0
    while time.monotonic() < stop_at:
        clip = clips[(n + i) % len(clips)]
        i += 1
        got = await timed(
            stats, "upload", session, "POST",
            f"{args.url}/v1/media?filename=load-{n}-{i}.mp4",
            data=clip, headers={**auth, "content-type": "application/octet-stream"},
        )
        if got is None:
            await asyncio.sleep(1)
            continue
        media_id = json.loads(got[1])["id"]
        stats.uploaded.append(media_id)
        await timed(
            stats, "publish", session, "PATCH", f"{args.url}/v1/media/{media_id}",
            json={"visibility": "public"}, headers=auth,
        )
        await wait_done(args, session, auth, media_id, stats, ready_pool, None)


async def wait_done(args, session, auth, media_id, stats, ready_pool, deadline):
    while deadline is None or time.monotonic() < deadline:
        got = await timed(stats, "status", session, "GET", f"{args.url}/v1/media/{media_id}", headers=auth)
        if got is not None:
            item = json.loads(got[1])
            if item["status"] == "ready":
                stats.ready.add(media_id)
                ready_pool.append(media_id)
                return
            if item["status"] == "failed":
                stats.failed[media_id] = item.get("error")
                return
        await asyncio.sleep(1)


URI = re.compile(r'URI="([^"]+)"')


async def player(args, session, stats, ready_pool, stop_at):
    while time.monotonic() < stop_at:
        if not ready_pool:
            await asyncio.sleep(0.5)
            continue
        media_id = random.choice(ready_pool)
        base = f"{args.url}/v1/media/{media_id}/hls/"
        got = await timed(stats, "playlist", session, "GET", base + "master.m3u8")
        if got is None:
            continue
        variants = [l for l in got[1].decode().splitlines() if l and not l.startswith("#")]
        if not variants:
            stats.error("playlist", f"{media_id}: master playlist without variants")
            continue
        got = await timed(stats, "playlist", session, "GET", base + random.choice(variants))
        if got is None:
            continue
        text = got[1].decode()
        segments = [l for l in text.splitlines() if l and not l.startswith("#")]
        init = URI.findall(text)
        for name in init[:1] + segments[:3]:
            await timed(stats, "segment", session, "GET", base + name)


async def rss_sampler(pid, samples, stop):
    while not stop.is_set():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
            samples.append(rss)
        except (OSError, AttributeError):
            pass
        try:
            await asyncio.wait_for(stop.wait(), 1)
        except asyncio.TimeoutError:
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--clips", nargs="+", required=True)
    ap.add_argument("--duration", type=float, default=300)
    ap.add_argument("--uploaders", type=int, default=50)
    ap.add_argument("--players", type=int, default=200)
    ap.add_argument("--drain", type=float, default=300)
    ap.add_argument("--seed", nargs="*", default=[], help="ids of ready public items to play from the start")
    ap.add_argument("--pid", type=int, default=0)
    args = ap.parse_args()

    clips = [Path(c).read_bytes() for c in args.clips]
    auth = {"authorization": f"Bearer {args.token}"}
    stats = Stats()
    ready_pool = list(args.seed)
    rss = []
    stop_rss = asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=120)
    conn = aiohttp.TCPConnector(limit=args.uploaders + args.players + 10)
    async with aiohttp.ClientSession(timeout=timeout, connector=conn) as session:
        sampler = asyncio.create_task(rss_sampler(args.pid, rss, stop_rss)) if args.pid else None
        t0 = time.monotonic()
        stop_at = t0 + args.duration
        tasks = [asyncio.create_task(uploader(i, args, session, auth, clips, stats, ready_pool, stop_at))
                 for i in range(args.uploaders)]
        tasks += [asyncio.create_task(player(args, session, stats, ready_pool, stop_at))
                  for _ in range(args.players)]
        # Uploaders stop starting new uploads at stop_at; each waits for its last item to finish
        # (bounded by the drain time).
        done, pending = await asyncio.wait(tasks, timeout=args.duration + args.drain)
        for t in pending:
            t.cancel()
        elapsed = time.monotonic() - t0
        if sampler:
            stop_rss.set()
            await sampler

    kinds = {}
    for kind, values in sorted(stats.latency.items()):
        kinds[kind] = {
            "requests": len(values),
            "p50_ms": round(percentile(values, 50), 1),
            "p99_ms": round(percentile(values, 99), 1),
            "errors": sum(1 for k, _ in stats.errors if k == kind),
        }
    print(json.dumps({
        "elapsed_s": round(elapsed, 1),
        "uploads": len(stats.uploaded),
        "ready": len(set(stats.uploaded) & stats.ready),
        "failed": stats.failed,
        "unfinished": len(set(stats.uploaded) - stats.ready - set(stats.failed)),
        "errors": len(stats.errors),
        "error_sample": [f"{k}: {w}" for k, w in stats.errors[:10]],
        "requests": kinds,
        "rss_mib": {"peak": round(max(rss), 1), "last": round(rss[-1], 1)} if rss else None,
    }, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
