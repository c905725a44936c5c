"""``make lighthouse``: Lighthouse (npm, pinned in package.json) with Debian's Chromium
scores the front page, the results page and every family page of a built site, served
on localhost (compressed with gzip, as static hosts serve it) and loaded as a phone
would (Lighthouse's default mobile emulation and throttling), three times each with
the median run counting. It prints a table and fails when a family page scores under
90 for performance or any page under 100 for accessibility.

    python -m cheatsheet.lighthouse [_build/html] [--json out.json]
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

PERFORMANCE, ACCESSIBILITY = 90, 100


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """A static server that compresses text with gzip when asked, as GitHub Pages and
    most static hosts do (http.server alone sends every byte as it is)."""

    TEXT = (".html", ".css", ".js", ".svg", ".json", ".txt")

    def log_message(self, *args):
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if (
            "gzip" not in self.headers.get("Accept-Encoding", "")
            or not os.path.isfile(path)
            or not path.endswith(self.TEXT)
        ):
            return super().send_head()
        with open(path, "rb") as f:
            data = gzip.compress(f.read(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        return io.BytesIO(data)


def pages(site):
    out = ["index.html", "results.html"]
    out += sorted(
        f"architectures/{p.name}" for p in (Path(site) / "architectures").glob("*.html")
    )
    return [p for p in out if (Path(site) / p).exists()]


def lighthouse_bin(root):
    nm = os.environ.get("CHEATSHEET_NODE_MODULES") or str(Path(root) / "node_modules")
    b = Path(nm) / ".bin" / "lighthouse"
    if not b.exists():
        raise SystemExit(f"{b} not found: run npm ci (make node) first")
    return b


def chromium():
    for c in (os.environ.get("CHEATSHEET_CHROMIUM"), shutil.which("chromium")):
        if c and Path(c).exists():
            return c
    raise SystemExit(
        "Chromium not found: apt-get install chromium (or set CHEATSHEET_CHROMIUM)"
    )


def score(url, lh, chrome):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        cmd = [
            str(lh),
            url,
            "--quiet",
            "--only-categories=performance,accessibility",
            "--output=json",
            f"--output-path={out}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu "
            "--disable-dev-shm-usage",
            "--max-wait-for-load=60000",
        ]
        proc = subprocess.run(
            cmd,
            env=dict(os.environ, CHROME_PATH=chrome),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode or not out.exists():
            raise RuntimeError(f"lighthouse failed on {url}:\n{proc.stderr[-2000:]}")
        report = json.loads(out.read_text())
    cats = report["categories"]
    audits = report["audits"]
    hosts = {
        r["url"].split("/")[2]
        for r in audits.get("network-requests", {}).get("details", {}).get("items", [])
        if r["url"].startswith(("http://", "https://"))
    }
    a11y_fails = [
        ref["id"]
        for ref in cats["accessibility"]["auditRefs"]
        if ref.get("weight") and audits[ref["id"]].get("score") not in (None, 1)
    ]
    return {
        "performance": round(100 * cats["performance"]["score"]),
        "accessibility": round(100 * cats["accessibility"]["score"]),
        "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "bytes": audits["total-byte-weight"]["numericValue"],
        "hosts": sorted(hosts),
        "a11y_failing": a11y_fails,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", nargs="?", default="_build/html")
    ap.add_argument("--json", help="write the scores here too")
    ap.add_argument(
        "--runs",
        type=int,
        default=3,
        help="runs per page; the median run counts (Lighthouse's own advice: one run "
        "varies with the machine's load)",
    )
    ap.add_argument("--only", help="comma-separated pages, e.g. architectures/rl.html")
    args = ap.parse_args(argv)
    site = Path(args.site).resolve()
    root = Path(__file__).resolve().parents[3]
    lh, chrome = lighthouse_bin(root), chromium()
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    results, bad = {}, []
    print(f"{'page':40} perf  a11y   LCP s  TBT ms      kB  other hosts")
    try:
        for p in args.only.split(",") if args.only else pages(site):
            runs = sorted(
                (score(f"{base}/{p}", lh, chrome) for _ in range(args.runs)),
                key=lambda r: r["performance"],
            )
            r = runs[len(runs) // 2]
            r["performance_runs"] = [x["performance"] for x in runs]
            results[p] = r
            others = [h for h in r["hosts"] if not h.startswith("127.0.0.1")]
            print(
                f"{p:40} {r['performance']:4} {r['accessibility']:5} "
                f"{r['lcp_s']:7.1f} {r['tbt_ms']:7.0f} {r['bytes'] / 1024:7.0f}  "
                f"{', '.join(others) or '-'}"
                + (
                    f"  a11y: {', '.join(r['a11y_failing'])}"
                    if r["a11y_failing"]
                    else ""
                )
            )
            family = p.startswith("architectures/")
            if others:
                bad.append(f"{p}: requests to {others}")
            if family and r["performance"] < PERFORMANCE:
                bad.append(f"{p}: performance {r['performance']} < {PERFORMANCE}")
            if r["accessibility"] < ACCESSIBILITY:
                bad.append(f"{p}: accessibility {r['accessibility']} < {ACCESSIBILITY}")
    finally:
        server.shutdown()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if bad:
        print("\n".join(["", "Lighthouse: below the bar:"] + bad))
        return 1
    print("\nLighthouse: family pages >= 90 performance, every page 100 accessibility")
    return 0


if __name__ == "__main__":
    sys.exit(main())
