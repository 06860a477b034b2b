#!/usr/bin/python3
"""The reference pipeline of the Chainlit app (md_to_pdf), unchanged:
status lines dropped, markdown2 with extras tables, fenced-code-blocks and
cuddled-lists, then xhtml2pdf's pisa.CreatePDF with the reference's CSS.

Debian's markdown2 fails on a fenced block with a language tag when pygments
is installed; the Chainlit environment of the article has no pygments, so it
is made unimportable here (markdown2 then emits a plain <pre><code>).

Usage: reference_pdf.py IN.md OUT.pdf [N]   renders N times (default 1),
prints "mean_ms=<ms> size=<bytes>".
"""
import io
import re
import sys
import time

sys.modules["pygments"] = None          # must precede the markdown2 import
import markdown2                         # noqa: E402
from xhtml2pdf import pisa               # noqa: E402

_STATUS_LINE = re.compile(r"`\[[^\]]+\s+working\.\.\.\]`")


def md_to_pdf(text: str) -> bytes:
    cleaned = "\n".join(
        line for line in text.splitlines()
        if not _STATUS_LINE.search(line)
    ).strip()
    body = markdown2.markdown(
        cleaned,
        extras=["tables", "fenced-code-blocks", "cuddled-lists"]
    )
    html = f"""<html><head><meta charset="utf-8"><style>
body {{ font-family: Helvetica, Arial, sans-serif; font-size: 14px; line-height: 1.25; padding: 15px; }}
h1 {{ font-size: 21px; margin: 8px 0 4px 0; line-height: 1.2; }}
h2 {{ font-size: 18px; margin: 6px 0 3px 0; line-height: 1.2; }}
h3 {{ font-size: 17px; margin: 5px 0 3px 0; line-height: 1.2; }}
p {{ margin: 3px 0; line-height: 1.25; }}
ul, ol {{ margin: 2px 0; padding-left: 20px; }}
li {{ margin: 1px 0; padding: 0; line-height: 1.25; }}
li p {{ display: inline; margin: 0; }}
strong {{ font-weight: bold; }}
code {{ background: #f4f4f4; padding: 2px 4px; font-size: 13px; }}
pre {{ background: #f4f4f4; padding: 6px; margin: 4px 0; font-size: 13px; line-height: 1.2; }}
table {{ border-collapse: collapse; width: 100%; margin: 5px 0; }}
th, td {{ border: 1px solid #ddd; padding: 4px; font-size: 13px; line-height: 1.2; }}
th {{ background: #f0f0f0; font-weight: bold; }}
</style></head><body>{body}</body></html>"""
    buf = io.BytesIO()
    pisa.CreatePDF(html, dest=buf)
    return buf.getvalue()


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    total = 0.0
    pdf = b""
    for _ in range(n):
        t0 = time.perf_counter()
        pdf = md_to_pdf(text)
        total += time.perf_counter() - t0
    with open(sys.argv[2], "wb") as f:
        f.write(pdf)
    print(f"mean_ms={total / n * 1000:.3f} size={len(pdf)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
