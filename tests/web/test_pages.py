"""The web pages in a real browser (Debian's Chromium, driven by Playwright) against a real
`planner serve` on loopback (issue 17). Screenshots of every page go to out/screenshots/."""

from __future__ import annotations

import io
import os
import re
import shutil
import statistics
import urllib.request
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from api.schemas import TINY_EXAMPLE
from tests.api.test_e2e import Server, free_port
from tests.conftest import DEMO, ROOT

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra: pip install -e '.[test]'")
CHROMIUM = os.environ.get("PLANNER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    pytest.skip("no Chromium on this machine: .ci/run installs Debian's chromium; set PLANNER_CHROMIUM to another one", allow_module_level=True)

SHOTS = ROOT / "out" / "screenshots"
BUDGET_MS = 300


def workbook(path: Path, drop: tuple[str, ...] = (), change=None) -> Path:
    """The demo as one workbook (one sheet per table), optionally with sheets left out or changed."""
    with pd.ExcelWriter(path) as xw:
        for f in sorted(DEMO.glob("*.csv")):
            if f.stem in drop:
                continue
            df = pd.read_csv(f, dtype=str, keep_default_na=False)
            if change:
                df = change(f.stem, df)
            df.to_excel(xw, sheet_name=f.stem, index=False)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("web"), free_port()).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def runs_stored(server) -> int:
    return server.get("/v1/runs?limit=1")[1]["total"]


def submit(page, server, files: list[Path], name: str, base: str | None = None) -> str:
    page.goto(server.base + ("/new" + (f"?base={base}" if base else "")))
    page.set_input_files("#files", [str(f) for f in files])
    page.fill("#name", name)
    page.fill("#time_limit", "30")
    page.fill("#mip_gap", "0.5")
    page.click("#send")
    page.wait_for_url(re.compile(r".*/runs/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


def wait_done(page, timeout_s: float = 120) -> None:
    page.wait_for_selector("#kpi-title, .card h2:text('No plan')", timeout=timeout_s * 1000)


@pytest.fixture(scope="module")
def demo_run(server, browser, tmp_path_factory):
    """The demo workbook uploaded through the page and solved: the run's id."""
    tmp = tmp_path_factory.mktemp("demo")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(server.base + "/new")
    shot(page, "new-run")
    run_id = submit(page, server, [workbook(tmp / "demo.xlsx")], "demo week 49")
    page.wait_for_selector("#progress", timeout=10_000)
    shot(page, "run-in-progress")
    wait_done(page)
    context.close()
    return run_id


def test_upload_the_demo_workbook_watch_it_finish_and_read_the_plan(server, page, demo_run):
    page.goto(f"{server.base}/runs/{demo_run}")
    page.wait_for_selector("#chart-inventory .main-svg")  # plotly.js drew it, served by the service itself
    profit = page.inner_text("[data-kpi=profit] dd")
    plan = server.get(f"/v1/runs/{demo_run}/plan")[1]
    assert profit == f"{plan['kpis']['profit']:,.2f} money"  # the page's figure is the API's, with its unit and separators
    assert page.inner_text("#seg-title") == "Segments" and "gold" in page.inner_text("section[aria-labelledby=seg-title]")
    for chart in ("orders", "service", "profit"):
        page.wait_for_selector(f"#chart-{chart} .main-svg")
    products = page.eval_on_selector_all("#product option", "os => os.map(o => o.value)")
    assert len(products) == 40
    page.select_option("#product", products[5])
    page.wait_for_function(f"document.querySelector('#chart-inventory .gtitle').textContent.includes('{products[5]}')")
    shot(page, "run-done")
    with page.expect_download() as download:
        page.click("#download-xlsx")
    assert download.value.suggested_filename == f"plan-{demo_run}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert {"orders", "inventory", "service", "segments", "suppliers", "kpis"} <= set(book.sheetnames)
    kpis = {r[0]: r[1] for r in book["kpis"].iter_rows(min_row=2, values_only=True)}
    assert float(kpis["profit"]) == pytest.approx(plan["kpis"]["profit"])


def test_a_broken_workbook_is_shown_by_table_row_and_column_and_nothing_is_stored(server, page, tmp_path, demo_run):
    before = runs_stored(server)

    def spoil(table, df):
        if table == "demand":
            df.loc[2, "quantity"] = "-5"
        return df

    broken = workbook(tmp_path / "broken.xlsx", drop=("products",), change=spoil)
    page.goto(server.base + "/new")
    page.set_input_files("#files", str(broken))
    page.click("#send")
    page.wait_for_selector(".errors")
    text = page.inner_text(".errors")
    assert "products" in text and "required table is missing" in text
    rows = page.eval_on_selector_all(".errors tbody tr", "rs => rs.map(r => Array.from(r.cells).map(c => c.textContent.trim()))")
    assert any(r[0] == "demand" and r[1] == "3" and r[2] == "quantity" for r in rows), rows
    shot(page, "new-run-errors")
    assert runs_stored(server) == before


def test_wrong_files_and_too_large_uploads_get_a_message_and_store_nothing(server, page, tmp_path, demo_run):
    before = runs_stored(server)
    page.goto(server.base + "/new")
    page.set_input_files("#files", {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"})
    assert "not a workbook (.xlsx), CSV or JSON file" in page.inner_text("#files-size")
    page.evaluate("document.getElementById('new-run').submit()")  # the server's own check, without the page's
    page.wait_for_selector(".errors")
    assert "plan.pdf" in page.inner_text(".errors")
    page.goto(server.base + "/new")
    page.set_input_files("#files", {"name": "demand.csv", "mimeType": "text/csv", "buffer": b"a" * (30 * 1024 * 1024)})
    assert "at most 20 MB" in page.inner_text("#files-size")
    page.evaluate("document.getElementById('new-run').submit()")
    page.wait_for_selector("h1:text('The files are too large')")
    shot(page, "upload-too-large")
    assert runs_stored(server) == before


def test_a_new_run_from_a_previous_one_with_new_demand_and_the_comparison(server, page, tmp_path, demo_run):
    demand = pd.read_csv(DEMO / "demand.csv")
    demand["quantity"] = (demand["quantity"] * 1.15).round(3)
    demand.to_csv(tmp_path / "demand.csv", index=False)
    other = submit(page, server, [tmp_path / "demand.csv"], "demo week 49, demand +15 %", base=demo_run)
    wait_done(page)
    stored = server.get(f"/v1/runs/{other}/input")[1]["instance"]
    assert len(stored["suppliers"]) == 6 and float(stored["demand"][0]["quantity"]) == pytest.approx(demand["quantity"][0])
    page.goto(server.base + "/")
    for run_id in (demo_run, other):
        page.check(f"input[name=pick][value='{run_id}']")
    shot(page, "runs")
    page.click("#compare")
    page.wait_for_selector("caption:text('Key figures')")
    row = page.eval_on_selector("tr[data-kpi=profit]", "r => Array.from(r.cells).map(c => c.textContent.trim())")
    base, other = (server.get(f"/v1/runs/{i}/plan")[1]["kpis"]["profit"] for i in (demo_run, other))
    assert row == ["Profit", f"{base:,.2f} money", f"{other:,.2f} money", f"{'+' if other > base else ''}{other - base:,.2f} money"]
    shot(page, "compare")


def test_decide_a_what_if_from_the_run_page(server, page, demo_run):
    page.goto(f"{server.base}/runs/{demo_run}")
    page.fill("#w-demand", "0.8")
    page.click("form.whatif button")
    page.wait_for_url(re.compile(r".*/runs/[0-9a-f-]{36}$"))
    assert page.url.rsplit("/", 1)[1] != demo_run
    wait_done(page)
    assert page.inner_text("#analysis-title") == "What changed against the base plan"
    assert "profit" in page.inner_text("#analysis-title >> xpath=..")
    shot(page, "what-if")


def test_every_page_renders_within_the_budget(server, demo_run):
    """Server time (the Server-Timing header), median of 5, on the demo."""
    for path in ("/", "/new", f"/runs/{demo_run}", "/login", f"/compare?base={demo_run}&other={demo_run}"):
        times = []
        for _ in range(5):
            with urllib.request.urlopen(urllib.request.Request(server.base + path, headers={"Accept": "text/html"})) as r:
                times.append(float(r.headers["Server-Timing"].split("dur=")[1]))
        assert statistics.median(times) <= BUDGET_MS, (path, times)


def test_with_keys_a_page_asks_for_one_keeps_it_in_a_secure_cookie_and_shows_only_the_tenants_runs(browser, tmp_path):
    s = Server(tmp_path, free_port(), PLANNER_API_KEYS="acme:key-acme,globex:key-globex").start()
    try:
        status, run, _ = s.call("POST", "/v1/runs", {"instance": TINY_EXAMPLE, "options": {"name": "globex only"}}, headers={"X-API-Key": "key-globex"})
        assert status == 202
        context = browser.new_context()
        page = context.new_page()
        page.goto(s.base + "/")
        assert "/login" in page.url
        shot(page, "login")
        page.fill("#key", "not-a-key")
        page.click("button[type=submit]")
        assert "not one this service knows" in page.inner_text(".error")
        page.fill("#key", "key-acme")
        page.click("button[type=submit]")
        page.wait_for_url(s.base + "/")
        cookie = next(c for c in context.cookies() if c["name"] == "planner_session")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict" and cookie["value"] != "key-acme"
        assert "globex only" not in page.content() and "acme" in page.inner_text("header")
        page.goto(f"{s.base}/runs/{run['id']}")
        assert "Run not found" in page.inner_text("h1")
        context.close()
    finally:
        s.stop()


CONTRAST = """els => els.map(e => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  let bg = null, n = e;
  while (n && !bg) { const c = getComputedStyle(n).backgroundColor; if (c && !c.startsWith("rgba(0, 0, 0, 0)") && c !== "transparent") bg = c; n = n.parentElement; }
  const a = lum(rgb(getComputedStyle(e).color)), b = lum(rgb(bg || "rgb(255, 255, 255)"));
  return [e.tagName + "." + e.className, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
})"""


def test_the_pages_work_from_the_keyboard_and_their_text_has_enough_contrast(server, page, demo_run):
    """Tab reaches the form's button through every control; text and badges meet WCAG AA (4.5:1)."""
    page.goto(server.base + "/new")
    seen = set()
    for _ in range(120):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        seen.add(focused)
        if focused == "send":
            break
    assert "send" in seen and {"files", "name", "time_limit", "mip_gap"} <= seen
    for path, selector in (("/", "td, th, label, .badge, caption, a"), (f"/runs/{demo_run}", ".kpi dt, .kpi dd, td, th, .badge, .help, .meta, main a, main button:not(.modebar-btn)")):
        page.goto(server.base + path)
        ratios = page.eval_on_selector_all(selector, CONTRAST)
        low = [(what, round(r, 2)) for what, r in ratios if r < 4.5]
        assert ratios and not low, (path, low[:10])
