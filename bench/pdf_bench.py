#!/usr/bin/python3
"""PDF export benchmark: our C engine (bench/pdf_bench.c over src/core/pdf*.c)
against the reference pipeline (bench/reference_pdf.py: markdown2 + xhtml2pdf),
on the same markdown in the same run.  Prints ms per PDF (median of several
runs of several iterations), the ratio, sizes and page counts, and MISSED for
a target not met.  Exit status 0 either way (only a failure to run is an error).

Targets: >= 50x faster on long.md, >= 20x on short.md, short PDF < 30 KB; the
multilingual unicode.md (shaped, bidi, fallback fonts embedded as subsets) < 50 ms.
"""
import glob
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.environ.get("RAGCHAT_SAMPLES", os.path.join(ROOT, "tests", "data"))
OUT = os.path.join(ROOT, "build", "bench")
DRIVER = os.path.join(OUT, "pdf_bench")
PY = "/usr/bin/python3"
TARGETS = {"short.md": 20.0, "long.md": 50.0}
MAX_MS = {"unicode.md": 50.0}


def pkg(*args):
    return subprocess.check_output(["pkg-config", *args], text=True).split()


def build():
    os.makedirs(OUT, exist_ok=True)
    core = sorted(glob.glob(os.path.join(ROOT, "src", "core", "*.c")))
    libs = ("apr-1", "apr-util-1", "harfbuzz", "harfbuzz-subset", "fribidi", "fontconfig")
    cmd = (["cc", "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Isrc/core"]
           + pkg("--cflags", *libs)
           + ["bench/pdf_bench.c"] + core + ["-o", DRIVER, "-lcrypto", "-ljansson",
              "-lcmark-gfm", "-lcmark-gfm-extensions", "-lhpdf", "-lm"]
           + pkg("--libs", *libs))
    subprocess.run(cmd, cwd=ROOT, check=True)


def parse(out):
    m = re.search(r"mean_ms=([\d.]+) size=(\d+)", out)
    if not m:
        raise RuntimeError("unexpected output: " + out)
    return float(m.group(1)), int(m.group(2))


def pages(path):
    out = subprocess.run(["pdfinfo", path], capture_output=True, text=True).stdout
    m = re.search(r"Pages:\s+(\d+)", out)
    return int(m.group(1)) if m else -1


def measure(cmd, runs):
    times, size = [], 0
    for _ in range(runs):
        ms, size = parse(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        times.append(ms)
    return statistics.median(times), size


def main():
    build()
    rows, missed = [], []
    for name in ("short.md", "long.md", "unicode.md"):
        md = os.path.join(SAMPLES, name)
        ours_pdf = os.path.join(OUT, name.replace(".md", "-ours.pdf"))
        ref_pdf = os.path.join(OUT, name.replace(".md", "-reference.pdf"))
        ours_ms, ours_size = measure([DRIVER, md, "50", ours_pdf], 5)
        ref_ms, ref_size = measure([PY, os.path.join(ROOT, "bench", "reference_pdf.py"),
                                    md, ref_pdf, "3"], 3)
        ratio = ref_ms / ours_ms if ours_ms > 0 else float("inf")
        rows.append((name, ours_ms, ref_ms, ratio, ours_size, ref_size,
                     pages(ours_pdf), pages(ref_pdf)))
        if name in TARGETS and ratio < TARGETS[name]:
            missed.append(f"{name}: {ratio:.0f}x < {TARGETS[name]:.0f}x")
        if name in MAX_MS and ours_ms >= MAX_MS[name]:
            missed.append(f"{name}: {ours_ms:.1f} ms >= {MAX_MS[name]:.0f} ms")
        if name == "short.md" and ours_size >= 30 * 1024:
            missed.append(f"short.md: {ours_size} bytes >= 30 KB")
    print(f"{'file':10} {'ours ms':>9} {'ref ms':>9} {'ratio':>8} {'ours B':>9} {'ref B':>9}"
          f" {'pages':>7}")
    for n, o, r, x, os_, rs, po, pr in rows:
        print(f"{n:10} {o:9.2f} {r:9.1f} {x:7.0f}x {os_:9d} {rs:9d} {po:>3}/{pr:<3}")
    print("baseline: reference md_to_pdf (markdown2 + xhtml2pdf), same input, same run")
    if missed:
        for m in missed:
            print("MISSED: " + m)
    else:
        print("all targets met (>=50x long, >=20x short, short < 30 KB, unicode < 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
