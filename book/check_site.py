"""Open every page of the built book in headless Chromium, as a reader would, and fail on what a
reader would notice:

- a request to another host (the book must render offline: math, fonts, scripts from _static);
- math left unrendered (raw \\( \\) \\[ \\] or $...$ in the text after MathJax has run);
- a truncated table (pandas' "..." rows or "N rows × M columns");
- a broken internal link, a missing page or resource, an image that did not load;
- a cell whose output is an error or a traceback;
- an unresolved glue reference;
- a table wider than the text column at 1280 px (the reader would have to scroll sideways), a
  table cell reading NaN, None or <NA>, and an empty cell in a verdict column.

    python book/check_site.py [_build/html] [--screenshots _build/screenshots]

Prints one line per fault ("page: kind: detail") and exits 1 if there is any.  Chromium is the
Debian package (`apt-get install chromium`), driven through Playwright with that executable.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import re
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

ROOT = Path(__file__).resolve().parent.parent
# the pages photographed for a reader of the CI log: landing page, the findings, one chapter, the scorecard
SCREENSHOTS = {"landing": "book/intro.html", "findings": "book/_generated/findings.html",
               "chapter": "book/_generated/table4_simsiam_components.html",
               "scorecard": "book/_generated/scorecard.html"}

# text nodes outside code, scripts and rendered math: what a reader reads as prose
VISIBLE_TEXT_JS = """() => {
  const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE', 'MJX-CONTAINER', 'TEXTAREA', 'NOSCRIPT']);
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { out.push(node.textContent); return; }
    if (node.nodeType !== Node.ELEMENT_NODE || skip.has(node.tagName)) return;
    if (node.classList.contains('highlight') || node.classList.contains('cell_input')) return;
    for (const child of node.childNodes) walk(child);
  };
  walk(document.querySelector('main') || document.body);
  return out.join(' ');
}"""
BROKEN_IMAGES_JS = """() => Array.from(document.images)
  .filter(img => img.complete && img.naturalWidth === 0).map(img => img.getAttribute('src'))"""
LINKS_JS = "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
ERROR_OUTPUTS_JS = """() => Array.from(document.querySelectorAll(
  '.output.traceback, .output.error, div.cell_output .output.stderr, .nb-error'))
  .map(e => e.innerText.slice(0, 120))"""

# the text column is the article (Jupyter Book) or <main>; a table is measured against it, not against
# the output box that would let it scroll
TABLE_FAULTS_JS = """() => {
  const column = document.querySelector('article') || document.querySelector('main') || document.body;
  const width = column.clientWidth, out = [], bad = new Set(['NaN', 'nan', 'None', '<NA>', 'NaT']);
  column.querySelectorAll('table').forEach(t => {
    const label = t.innerText.trim().split(/\\s+/).slice(0, 4).join(' ');
    const wide = Math.ceil(t.getBoundingClientRect().width);
    if (wide > width + 1) out.push(`table wider than its column: ${wide} px > ${width} px (${label})`);
    const heads = Array.from(t.tHead ? t.tHead.rows : []).map(r => Array.from(r.cells, c => c.innerText.trim()));
    const head = heads.find(h => h.includes('verdict'));
    const at = head ? head.indexOf('verdict') : -1;
    for (const row of (t.tBodies.length ? Array.from(t.tBodies).flatMap(b => Array.from(b.rows)) : Array.from(t.rows))) {
      const cells = Array.from(row.cells, c => c.innerText.trim());
      const nan = cells.find(c => bad.has(c));
      if (nan !== undefined) out.push(`NaN cell: "${nan}" in the row "${cells.slice(0, 2).join(' | ')}" (${label})`);
      if (at >= 0 && cells.length === head.length && cells[at] === '')
        out.push(`empty verdict cell: in the row "${cells.slice(0, 2).join(' | ')}" (${label})`);
    }
  });
  return out;
}"""

RAW_MATH = re.compile(r"\\\(|\\\)|\\\[|\\\]|(?<![\w$])\$[^$\s][^$\n]{0,200}?\$(?![\w$])")
TRUNCATED = re.compile(r"\b\d+ rows × \d+ columns\b|(^|\s)\.\.\.(\s|$)|…\s*$")
REDIRECT = re.compile(r'<meta\s+http-equiv="refresh"', re.I)
UNRESOLVED_GLUE = re.compile(r"\{glue:?[a-z]*\}|glue:(text|any|figure|math)|<myst_nb\.|UNKNOWN GLUE")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(site: Path):
    """A local HTTP server on a free port; returns (base URL, server)."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


def site_pages(site: Path) -> list[Path]:
    """The book's pages, without _static and the redirect stubs (index.html's meta refresh to the
    first page, which is checked itself)."""
    return [p for p in site.rglob("*.html") if "_static" not in p.parts
            and not REDIRECT.search(p.read_text(errors="replace")[:2000])]


def chromium_path() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def internal_link_faults(site: Path, page: Path, hrefs) -> list[str]:
    """Relative links whose target file does not exist (anchors and other hosts are not followed)."""
    out = []
    for href in hrefs:
        parsed = urlparse(href)
        if parsed.scheme or parsed.netloc or href.startswith(("#", "mailto:", "javascript:")):
            continue
        target = (page.parent / unquote(parsed.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            out.append(f"broken link: {href}")
    return out


def text_faults(text: str) -> list[str]:
    out = []
    for kind, pattern in (("unrendered math", RAW_MATH), ("truncated table", TRUNCATED),
                          ("unresolved glue", UNRESOLVED_GLUE)):
        m = pattern.search(text)
        if m:
            start = max(0, m.start() - 40)
            out.append(f"{kind}: …{' '.join(text[start:m.end() + 40].split())}…")
    if "Traceback (most recent call last)" in text:
        out.append("error output: a traceback in the page")
    return out


def check_site(site: Path, screenshots: Path | None = None, pages=None) -> list[str]:
    """Every fault of every page under `site`, as 'page: kind: detail' lines."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise SystemExit("chromium not found: apt-get install -y chromium")
    site = site.resolve()
    pages = sorted(pages or site_pages(site))
    base, server = serve(site)
    faults = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for path in pages:
                rel = path.relative_to(site).as_posix()
                page = context.new_page()
                seen = []
                page.on("request", lambda req: seen.append(("request", req.url)))
                page.on("requestfailed", lambda req: seen.append(("failed", req.url)))
                page.on("response", lambda res: seen.append(("status", res.url, res.status)))
                page.goto(urljoin(base, rel), wait_until="load")
                page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
                found = [f"request to another host: {e[1]}" for e in seen
                         if e[0] == "request" and urlparse(e[1]).hostname not in ("127.0.0.1", None)
                         and not e[1].startswith("data:")]
                found += [f"missing resource ({e[2]}): {e[1]}" for e in seen
                          if e[0] == "status" and e[2] >= 400 and e[1].startswith(base)]
                found += [f"broken image: {src}" for src in page.evaluate(BROKEN_IMAGES_JS)]
                found += internal_link_faults(site, path, page.evaluate(LINKS_JS))
                found += [f"error output: {t}" for t in page.evaluate(ERROR_OUTPUTS_JS)]
                found += text_faults(page.evaluate(VISIBLE_TEXT_JS))
                found += page.evaluate(TABLE_FAULTS_JS)
                faults += [f"{rel}: {f}" for f in dict.fromkeys(found)]
                for name, shot in SCREENSHOTS.items():
                    if screenshots is not None and rel == shot:
                        screenshots.mkdir(parents=True, exist_ok=True)
                        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=False)
                page.close()
            browser.close()
    finally:
        server.shutdown()
    return faults


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", nargs="?", default=str(ROOT / "_build" / "html"))
    ap.add_argument("--screenshots", default=None, help="folder for the landing/findings/chapter/scorecard PNGs")
    args = ap.parse_args()
    site = Path(args.site)
    if not (site / "index.html").is_file():
        print(f"no built book at {site} (index.html missing): run `make book` first", file=sys.stderr)
        return 2
    faults = check_site(site, Path(args.screenshots) if args.screenshots else None)
    n = len(site_pages(site))
    for f in faults:
        print(f)
    print(f"{n} pages checked, {len(faults)} faults")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
