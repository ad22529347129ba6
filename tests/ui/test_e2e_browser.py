"""End to end in a real browser: ``chatbi serve`` in a subprocess, headless Chromium through Playwright.

Asks one Chinese and one English question and checks that the table
(``stDataFrame``) and the chart (``stVegaLiteChart``) rendered; switches the UI
language with the real sidebar control; opens the metric catalog; as
``--user wang`` (a regional manager) the table holds his region only. Screenshots
and timings go to ``artifacts/`` (gitignored) — look at them to see Chinese render.

Needs Debian's ``chromium`` and ``fonts-wqy-microhei`` (``.ci/run`` installs them).
With ``CI`` set a missing browser fails the test; locally it skips.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
#: NOTES: Playwright cannot fetch its own browser here; these flags keep Chromium quiet and offline.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1400, "height": 2200}  # tall: a full-page screenshot only covers Streamlit's viewport
TIMEOUT_MS = 90_000


def _require_browser() -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: apt-get install -y chromium fonts-wqy-microhei"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def timings() -> Iterator[dict[str, float]]:
    found: dict[str, float] = {}
    yield found
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e_timing.txt").write_text("".join(f"{k}: {v:.2f} s\n" for k, v in found.items()), encoding="utf-8")


@contextmanager
def _serve(tmp_path_factory: pytest.TempPathFactory, demo_db: Path, *args: str) -> Iterator[tuple[str, float]]:
    """``chatbi serve ARGS`` on a free port against copies in tmp; yields its URL and seconds to healthy."""
    _require_browser()
    tmp = tmp_path_factory.mktemp("e2e")
    catalog = tmp / "catalog"
    shutil.copytree(REPO / "metrics" / "catalog", catalog, ignore=shutil.ignore_patterns(".history"))
    shutil.copy(demo_db, tmp / "demo.duckdb")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp / "serve.log").open("w")
    exe = Path(sys.executable).parent / "chatbi"
    # offline planner (no CHATBI_LLM_*): deterministic answers
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBI_LLM_")}
    env["CHATBI_HOME"] = str(tmp / "home")
    started = time.perf_counter()
    proc = subprocess.Popen([str(exe), "serve", "--db", str(tmp / "demo.duckdb"), "--port", str(port),
                             "--catalog", str(catalog), "--suite", str(tmp / "suite.yaml"), *args],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    try:
        while not _healthy(url):
            if proc.poll() is not None or time.perf_counter() - started > 60:
                pytest.fail(f"chatbi serve did not come up:\n{(tmp / 'serve.log').read_text()}")
            time.sleep(0.1)
        yield url, time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_db: Path, timings: dict[str, float]) -> Iterator[str]:
    """The app as a user starts it on their own machine (``chatbi serve``: the local operator)."""
    with _serve(tmp_path_factory, demo_db) as (url, seconds):
        timings["server healthy"] = seconds
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_page(viewport=VIEWPORT, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        browser.close()


def _count(page, testid: str) -> int:
    return int(page.locator(f'[data-testid="{testid}"]').count())


def _ask(page, question: str, answers_before: int) -> None:
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.wait_for(state="visible")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stChatInputTextArea\"]').disabled")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "(n) => document.querySelectorAll('[data-testid=\"stDataFrame\"]').length > n"
        " && document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length > n", arg=answers_before)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached")
    page.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg').nth(
        answers_before).wait_for(state="visible")


def test_chinese_and_english_questions_render_table_and_chart(server, page, timings):
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    page.goto(server)
    page.locator('[data-testid="stChatInputTextArea"]').wait_for(state="visible")
    timings["browser to chat input"] = time.perf_counter() - started
    assert page.get_by_text("数据截止日: 2025-12-31").first.is_visible()

    t0 = time.perf_counter()
    _ask(page, "2025年各地区的销售额", 0)
    timings["zh question answered"] = time.perf_counter() - t0
    assert _count(page, "stDataFrame") == 1 and _count(page, "stVegaLiteChart") == 1
    assert page.get_by_text("指标: 销售额").first.is_visible(), "chips in Chinese"
    assert page.get_by_text("华东", exact=False).first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "e2e_chat_zh.png"), full_page=True)

    page.locator('[data-testid="stSidebar"]').get_by_text("English").click()
    page.get_by_role("button", name="Clear conversation").wait_for(state="visible")
    t0 = time.perf_counter()
    _ask(page, "revenue by month in 2025", 1)
    timings["en question answered"] = time.perf_counter() - t0
    assert _count(page, "stDataFrame") == 2 and _count(page, "stVegaLiteChart") == 2
    assert page.get_by_text("Metric: Revenue").first.is_visible(), "chips in English"
    page.screenshot(path=str(ARTIFACTS / "e2e_chat_en.png"), full_page=True)
    assert not page.locator('[data-testid="stException"]').count()


def test_a_deep_link_goes_through_the_app_shell(server, page):
    """/data opened directly still has the shell's sidebar and navigation (no page runs on its own)."""
    page.goto(f"{server}/data")
    page.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible")
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("English").first.is_visible(), "the language switch of app.py"
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Chat" in nav or "对话" in nav
    assert "app_pages" not in nav and "\napp\n" not in f"\n{nav}\n"


def test_metric_catalog_page_renders_chinese(server, page, timings):
    t0 = time.perf_counter()
    page.goto(f"{server}/catalog")
    page.locator('[data-testid="stExpander"]').first.wait_for(state="visible")
    page.locator('[data-testid="stTextInput"] input').fill("获客")
    page.keyboard.press("Enter")
    page.locator('[data-testid="stCode"]').first.wait_for(state="visible")
    timings["catalog search"] = time.perf_counter() - t0
    assert page.get_by_text("获客成本", exact=False).first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "e2e_catalog.png"), full_page=True)


def test_a_regional_manager_sees_only_their_region(tmp_path_factory, demo_db, page):
    """``chatbi serve --user wang``: the answer table holds the East row only."""
    with _serve(tmp_path_factory, demo_db, "--user", "wang") as (url, _):
        page.goto(url)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("王经理(华东)", exact=False).first.wait_for(state="visible")
        _ask(page, "2025年各地区的销售额", 0)
        grid = page.locator('[data-testid="stDataFrame"] [role="gridcell"]')  # the grid's accessible cells
        grid.first.wait_for(state="attached")
        cells = grid.all_inner_texts()
        assert cells[0::2] == ["华东"], cells
        page.screenshot(path=str(ARTIFACTS / "e2e_chat_wang.png"), full_page=True)


def test_missing_browser_fails_on_ci_and_skips_only_locally(monkeypatch, tmp_path):
    import tests.ui.test_e2e_browser as me

    monkeypatch.setattr(me, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        me._require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        me._require_browser()
