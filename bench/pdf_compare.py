#!/usr/bin/python3
"""Renders the same markdown with our engine and with the reference pipeline
and saves page N (default 1) of each as PNG in artifacts/pdf-compare/
(<name>-ours.png, <name>-reference.png, and <name>-side.png when ImageMagick's
montage/convert is installed).

Usage: pdf_compare.py [FILE.md ...] [--page N] [--dpi D]
       (default: short.md, long.md and the multilingual unicode.md of tests/data:
       Arabic, Hebrew, Devanagari, CJK, Hangul and emoji shaped and in their
       direction in ours, boxes or blanks in the reference's)
"""
import glob
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.environ.get("RAGCHAT_SAMPLES", os.path.join(ROOT, "tests", "data"))
ART = os.path.join(ROOT, "artifacts", "pdf-compare")
DRIVER = os.path.join(ROOT, "build", "bench", "pdf_bench")


def build():
    if os.path.exists(DRIVER):
        newest = max(os.path.getmtime(os.path.join(ROOT, f))
                     for f in glob.glob(os.path.join(ROOT, "src", "core", "*.c")) + ["bench/pdf_bench.c"])
        if os.path.getmtime(DRIVER) >= newest:
            return
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import pdf_bench  # noqa: E402
    pdf_bench.build()


def to_png(pdf, page, dpi, stem):
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
                    "-singlefile", pdf, stem], check=True)
    return stem + ".png"


def main(argv):
    page, dpi, files = 1, 80, []
    i = 0
    while i < len(argv):
        if argv[i] == "--page":
            page = int(argv[i + 1]); i += 2
        elif argv[i] == "--dpi":
            dpi = int(argv[i + 1]); i += 2
        else:
            files.append(argv[i]); i += 1
    if not files:
        files = [os.path.join(SAMPLES, n) for n in ("short.md", "long.md", "unicode.md")]
    os.makedirs(ART, exist_ok=True)
    build()
    for md in files:
        name = os.path.splitext(os.path.basename(md))[0]
        ours = os.path.join(ART, name + "-ours.pdf")
        ref = os.path.join(ART, name + "-reference.pdf")
        subprocess.run([DRIVER, md, "1", ours], check=True, stdout=subprocess.DEVNULL)
        r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "reference_pdf.py"),
                            md, ref], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            print(f"{name}: reference failed: {r.stderr.strip()[-300:]}")
            continue
        a = to_png(ours, page, dpi, os.path.join(ART, f"{name}-ours"))
        b = to_png(ref, page, dpi, os.path.join(ART, f"{name}-reference"))
        side = os.path.join(ART, f"{name}-side.png")
        if os.path.exists(side):
            os.unlink(side)
        if shutil.which("montage"):
            subprocess.run(["montage", a, b, "-tile", "2x1", "-geometry", "+8+0", side], check=False)
        elif shutil.which("convert"):
            subprocess.run(["convert", a, b, "+append", side], check=False)
        if not os.path.exists(side):
            side = "(no ImageMagick: no side-by-side)"
        print(f"{name}: {a}  {b}  {side}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
