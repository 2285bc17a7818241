"""The HTML postmortem report: its summary and findings first, every log string escaped, no
network; and, in a real headless browser (Debian's chromium), the charts drawn with no console
error and a hostile user agent shown as text, no script of it run."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import k8saudit
from k8saudit.report import CHARTS, STEPS, TABLES, build_report
from tests.conftest import SAMPLE_LOGS
from tests.helpers import event, jsonl, run_cli

pytest.importorskip("altair")
pytest.importorskip("vl_convert")

REPO = Path(__file__).resolve().parents[1]
HOSTILE = "<script>alert(1)</script>"
#: a username that is markup, exec'ing into a pod: a security finding of the report
HOSTILE_USER = "<img src=x onerror=alert(3)>"
#: where the browser test leaves its screenshot for a person to look at (not committed)
SCREENSHOT = REPO / "build" / "report-browser.png"


@pytest.fixture(scope="module")
def hostile_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sample_logs/ and 600 requests from a client whose user agent is a script tag (a tenth of
    them throttled), so it is among the top talkers, in the charts' legends and tables."""
    folder = tmp_path_factory.mktemp("hostile")
    events = []
    for i in range(600):
        at = f"2019-02-04T12:0{i % 5}:{i % 60:02d}.{i:06d}Z"
        code = 429 if i % 10 == 0 else 200
        events.append(
            event(f"hostile-{i}", userAgent=HOSTILE, requestReceivedTimestamp=at,
                  stageTimestamp=at, responseStatus={"metadata": {}, "code": code},
                  requestURI="/api/v1/pods?x=</script><img src=x onerror=alert(2)>")
        )  # fmt: skip
    events.append(
        event("hostile-exec", verb="create", user={"username": HOSTILE_USER, "groups": []},
              objectRef={"resource": "pods", "subresource": "exec", "namespace": "default",
                         "name": "web-0", "apiVersion": "v1"},
              requestURI="/api/v1/namespaces/default/pods/web-0/exec?command=sh",
              requestReceivedTimestamp="2019-02-04T12:03:00.000000Z",
              stageTimestamp="2019-02-04T12:03:01.000000Z",
              responseStatus={"metadata": {}, "code": 101})
    )  # fmt: skip
    jsonl(folder / "hostile.log", events)
    root = folder / "ds"
    k8saudit.ingest([SAMPLE_LOGS, folder / "hostile.log"], dataset=root)
    return root


@pytest.fixture(scope="module")
def report(hostile_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("report") / "report.html"
    code, out, err = run_cli(
        "report", "--dataset", str(hostile_dataset), "--output", str(output), "--quiet"
    )
    assert (code, out, err) == (0, f"{output}\n", "")
    return output


def test_summary_and_findings_come_first(report: Path) -> None:
    html = report.read_text().split('<script type="application/json"', 1)[0]  # the body
    assert (
        "From 2019-02-04 12:00:00 .. 12:04:59 UTC (5m 0s) the logs show 31,174 requests "
        "(103.9 per second); 588 of them (1.9%) got 429 (throttled)." in html
    )
    findings = html.index("<h2>Findings</h2>")
    assert findings < html.index('id="chart-timeline"') < html.index("<h2>Top talkers</h2>")
    assert html.count("<li><b>") == 5  # the five findings of diagnose
    assert html.index("<b>datadog-agent</b>: LIST services cluster") > findings
    assert html.count('class="chart"') == len(CHARTS) == 8
    # and the security section's: its actors and one per kind; and the files it was made from
    assert html.count("<table>") == len(TABLES) + 1 + 3 + 1
    assert "How this report was made" in html and "sample_logs/apiserver-1/" in html


def test_the_security_findings(report: Path) -> None:
    html = report.read_text().split('<script type="application/json"', 1)[0]
    # counted under the findings of diagnose, each kind linked to its part of the section
    assert (
        '</ol><p><a href="#security">5 security findings</a>: <a href="#security-exec">1 exec</a>'
        ', <a href="#security-secret-read">3 secret-read</a>, <a href="#security-denied">1 '
        "denied</a>.</p><h2>Request rate</h2>" in html
    )
    section = html[html.index('<h2 id="security">') : html.index("How this report was made")]
    assert section.count("<li>") == 3
    assert (
        '<li><a href="#security-secret-read">secret-read</a> (Secret reads and lists): '
        "3 findings, 2,283 requests, 3 actors, 2 denied</li>" in section
    )
    assert section.index('id="security-exec"') < section.index('id="security-secret-read"')
    assert section.index('id="security-secret-read"') < section.index('id="security-denied"')
    # the hostile username, as text: among the top actors and in its exec finding
    user = "&lt;img src=x onerror=alert(3)&gt;"
    assert f'<tr><td>{user}</td><td class="num">1</td>' in section
    assert f"<tr><td>exec into pods: default/web-0</td><td>{user}</td>" in section
    assert "<img" not in html


def test_every_log_string_is_escaped(report: Path) -> None:
    html = report.read_text()
    page = html.split("\n<script>", 1)[0]  # the body and the chart specs, not the Vega code
    assert "<script>alert" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the user agents table
    assert "&lt;script&gt;alert(1)&lt;" in html  # the client, as the top talkers name it
    # the only script elements are the page's: the chart specs (JSON, no `<` inside) and its
    # two scripts, allowed by hash in its Content-Security-Policy
    assert len(re.findall(r"<script", html)) == len(CHARTS) + 2
    for spec in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
        assert "<" not in spec and ">" not in spec
    assert "\\u003cscript\\u003ealert(1)\\u003c" in html  # in the legend's domain


def test_it_needs_no_network(report: Path) -> None:
    html = report.read_text()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    page = html.split("\n<script>", 1)[0]  # (the browser test shows the code fetches nothing)
    assert not re.search(r"""<(?:script|img|link|iframe)[^>]*\s(?:src|href)=""", page)


def test_progress_hears_every_step(sample_dataset: Path) -> None:
    heard: list[tuple[int, int, str]] = []
    build_report(sample_dataset, progress=lambda *step: heard.append(step))
    assert len(CHARTS) + len(TABLES) + 4 == STEPS  # summary, diagnose, sensitive, page
    assert [done for done, _, _ in heard] == list(range(1, STEPS + 1))
    assert {total for _, total, _ in heard} == {STEPS}
    assert [what for _, _, what in heard[:3]] == ["summary", "diagnose", "sensitive"]
    assert heard[-1][2] == "page"


def test_report_errors_are_one_line(sample_dataset: Path, tmp_path: Path) -> None:
    code, out, err = run_cli("report", "-d", str(sample_dataset), "-o", str(tmp_path / "r.txt"))
    assert (code, out) == (2, "")
    assert err == f"error: --output {tmp_path / 'r.txt'}: the report is an .html file\n"
    (tmp_path / "nothing").mkdir()
    k8saudit.ingest([tmp_path / "nothing"], dataset=tmp_path / "empty")
    code, _, err = run_cli("report", "-d", str(tmp_path / "empty"), "-o", str(tmp_path / "e.html"))
    assert code == 4 and err.startswith("error: ") and err.count("\n") == 1


def _browser() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip(
            "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
        )
    pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
    return path


def test_the_report_in_a_headless_browser(report: Path) -> None:
    chromium = _browser()
    from playwright.sync_api import ConsoleMessage, Dialog, Request, sync_playwright

    problems: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
        page = context.new_page()
        fetched: list[str] = []

        def console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                problems.append(message.text)

        def dialog(opened: Dialog) -> None:  # alert(): a script from the logs ran
            problems.append(f"a script ran: {opened.message}")
            opened.dismiss()

        def request(sent: Request) -> None:
            if not sent.url.startswith("file:"):
                fetched.append(sent.url)

        page.on("console", console)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("dialog", dialog)
        page.on("request", request)
        page.goto(report.as_uri())
        page.wait_for_function(
            f"document.querySelectorAll('.chart svg').length === {len(CHARTS)}", timeout=60_000
        )
        marks = page.evaluate(
            "Array.from(document.querySelectorAll('.chart')).map(c => [c.id, "
            "c.querySelectorAll('svg g.role-mark > path, svg g.role-mark > g > path, "
            "svg g.role-mark > rect').length])"
        )
        text = page.evaluate("document.body.innerText")
        legend = page.evaluate(
            "Array.from(document.querySelectorAll('#chart-timeline svg text'))"
            ".map(t => t.textContent)"
        )
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()
    assert problems == [] and fetched == []
    assert [name for name, _ in marks] == [f"chart-{name}" for name, *_ in CHARTS]
    assert all(count > 0 for _, count in marks), marks
    assert HOSTILE in text  # shown as text, in the user agents table
    assert f"exec into pods: default/web-0\t{HOSTILE_USER}" in text  # a security finding
    assert "<script>alert(1)<" in legend  # the client, in the timeline's legend
    assert SCREENSHOT.stat().st_size > 100_000
