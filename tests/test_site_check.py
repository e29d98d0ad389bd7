"""book/check_site.py, the browser test of the built book, must find each fault a
reader would notice on a small deliberately broken site, and nothing on a clean page.

Needs Chromium (the Debian package) and Playwright; skipped where Chromium is missing, except in
CI (.ci/run installs Chromium and sets SSLLIB_REQUIRE_BROWSER=1, so a missing browser fails)."""
import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("check_site", ROOT / "book" / "check_site.py")
check_site = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_site)

if check_site.chromium_path() is None or importlib.util.find_spec("playwright") is None:
    if os.environ.get("SSLLIB_REQUIRE_BROWSER") == "1":
        pytest.fail("SSLLIB_REQUIRE_BROWSER=1 but chromium or playwright is missing", pytrace=False)
    pytest.skip("chromium or playwright not installed (apt-get install -y chromium)", allow_module_level=True)

PAGE = "<!doctype html><html><head><meta charset=\"utf-8\"><title>t</title></head><body><main>{}</main></body></html>"
BROKEN = {
    "other_host.html": ('<p>a figure</p><img src="http://example.invalid/figure.png" alt="x">',
                        "request to another host"),
    "raw_math.html": (r"<p>the residual ratio \(m_r = \|r\|/\|z\|\) stays high</p>", "unrendered math"),
    "dollar_math.html": ("<p>the residual ratio $m_r$ stays high</p>", "unrendered math"),
    "ellipsis_rows.html": ("<table><tr><td>1</td></tr><tr><td>...</td></tr><tr><td>9</td></tr></table>",
                           "truncated table"),
    "rows_columns.html": ("<table><tr><td>1</td></tr></table><p>76 rows × 4 columns</p>", "truncated table"),
    "broken_link.html": ('<p>see <a href="missing_chapter.html">the chapter</a></p>', "broken link"),
    "broken_image.html": ('<img src="missing.png" alt="figure">', "broken image"),
    "traceback.html": ('<div class="cell_output"><pre>Traceback (most recent call last):\n  File "x"</pre>'
                       '<div class="output traceback">KeyError: m_r</div></div>', "error output"),
    "glue.html": ("<p>SimSiam's m_r is {glue:text}`table2_simsiam_m_r`</p>", "unresolved glue"),
    # a 600-px text column and a table of nine unbreakable 120-px cells, inside a box that scrolls
    "wide_table.html": ('<article style="width:600px"><div style="overflow-x:auto"><table><tr>'
                        + '<td style="white-space:nowrap;min-width:120px">m_r 0.995</td>' * 9
                        + "</tr></table></div></article>", "table wider than its column"),
    "nan_cell.html": ("<table><thead><tr><th>claim</th><th>plan</th></tr></thead>"
                      "<tbody><tr><td>r_e beats o_e</td><td>NaN</td></tr></tbody></table>", "NaN cell"),
    "none_cell.html": ("<table><tr><td>SimSiam</td><td>None</td></tr></table>", "NaN cell"),
    "empty_verdict.html": ("<table><thead><tr><th>claim</th><th>verdict</th></tr></thead>"
                           "<tbody><tr><td>r_e beats o_e</td><td> </td></tr></tbody></table>", "empty verdict cell"),
}
CLEAN = ('<h1>A clean page</h1><p>Numbers 0.995 and 52.3%; code <code>$HOME \\(x\\)</code></p>'
         '<pre>x = "$5"</pre><a href="clean.html#top">self</a><a href="https://example.org">out</a>'
         # a table that fits, a verdict in its column, and "nan" inside a longer cell (not a NaN cell)
         '<article style="width:600px"><table><thead><tr><th>claim</th><th>verdict</th></tr></thead><tbody>'
         '<tr><td>nan-free m_r 0.995 ± 0.002</td><td>reproduced</td></tr></tbody></table></article>')


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    for name, (body, _) in BROKEN.items():
        (root / name).write_text(PAGE.format(body))
    (root / "clean.html").write_text(PAGE.format(CLEAN))
    return root


@pytest.fixture(scope="module")
def faults(site, tmp_path_factory):
    return check_site.check_site(site)


@pytest.mark.parametrize("page", sorted(BROKEN))
def test_each_fault_is_found_on_its_page(faults, page):
    kind = BROKEN[page][1]
    assert any(f.startswith(f"{page}: {kind}") for f in faults), (page, [f for f in faults if f.startswith(page)])


def test_a_clean_page_has_no_fault(faults):
    """Math-like text inside code, a link with an anchor and a link (not a request) to another
    host are not faults."""
    assert [f for f in faults if f.startswith("clean.html")] == []


def test_the_checker_exits_1_on_faults_and_2_without_a_site(site, tmp_path, monkeypatch, capsys):
    (site / "index.html").write_text(PAGE.format(CLEAN))
    monkeypatch.setattr("sys.argv", ["check_site.py", str(site)])
    assert check_site.main() == 1
    assert "faults" in capsys.readouterr().out
    monkeypatch.setattr("sys.argv", ["check_site.py", str(tmp_path / "nothing")])
    assert check_site.main() == 2
