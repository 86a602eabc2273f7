"""The lab's views in a real JupyterLab (headless Chromium): what a learner sees while node 3 is replaced.

`test_the_lab_shows_a_reconfiguration_as_it_happens` clicks Reconfigure and then Step, message by
message, and screenshots the reconfiguration strip while the change is under way (the StopSign
proposed, then decided with node 4 not yet running); then Run, and checks that nodes 1, 2 and 3 kept
their places in the diagram when node 4 appeared; the Storage tab with both configurations; the SVG
titles; and the same lab in JupyterLab's dark theme. `test_click_to_update_medians` presses each
control several times on 5 nodes with 100 log entries and prints the median time from the click to
the visible change (figures only, never asserted).

Screenshots go to ``tests/browser/screenshots/`` (ignored by git): ``views-*.png``, and the figures
to ``views-click-medians.txt``. Every screenshot is taken before the checks, so a failing check
still leaves the pictures that show why.
"""

from __future__ import annotations

import math
import os
import re
import statistics

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import expect

from test_browser_lab import SCREENSHOTS, button, node_in_diagram, shot, status, tab, text_box

pytestmark = pytest.mark.browser


def open_lab(lab, name: str, cells: list[str]):
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(notebook, lab.server.root_dir / name)
    lab.page.set_viewport_size({"width": 1300, "height": 2000})
    lab.open_notebook(name)
    lab.run_all()
    widget = lab.outputs.locator(".omnilab-lab")
    expect(widget).to_be_visible()
    return widget


def strip(widget):
    return widget.locator(".omnilab-reconfiguration")


def centres(widget, pids) -> dict:
    boxes = {pid: node_in_diagram(widget, pid).bounding_box() for pid in pids}
    return {pid: (b["x"] + b["width"] / 2, b["y"] + b["height"] / 2) for pid, b in boxes.items()}


def normalised(points: dict) -> dict:
    """Positions relative to node 3, in units of the distance from node 3 to node 2: the same
    whatever the picture's zoom (a wider picture may be drawn smaller to fit the tab)."""
    (ox, oy), (ux, uy) = points[3], points[2]
    unit = math.hypot(ux - ox, uy - oy)
    return {pid: ((x - ox) / unit, (y - oy) / unit) for pid, (x, y) in points.items()}


def test_the_lab_shows_a_reconfiguration_as_it_happens(lab):
    widget = open_lab(lab, "lab-views.ipynb", [
        "import omnilab\nfrom omnilab.sim import scenarios\ncluster = scenarios.replace_crashed_node()",
        "w = omnilab.lab(cluster)\nw",
    ])
    expect(node_in_diagram(widget, 3)).to_contain_text("crashed")
    before = centres(widget, (1, 2, 3))
    shot(widget, "views-1-before-node-4")

    text_box(widget, "nodes").fill("1, 2, 4")
    button(widget, "Reconfigure").click()
    expect(status(widget)).to_have_text("✓ cluster.reconfigure([1, 2, 4])")
    expect(strip(widget)).to_contain_text("✓ StopSign proposed")
    strip(widget).screenshot(path=str(SCREENSHOTS / "views-2-strip-proposed.png"))
    proposed = strip(widget).inner_text()

    # Deliver message by message (the Messages tab's list: each click's status names its id) until
    # the StopSign is decided while node 4 is not running yet.
    tab(widget, "Messages").click()
    during = None
    for _ in range(60):
        text = strip(widget).inner_text()
        if "configuration 1 sealed" in text and "✓ node 4 running" not in text:
            lab.page.wait_for_timeout(300)  # every pane of the last click has arrived
            during = strip(widget).inner_text()
            break
        messages = widget.locator(".omnilab-message")
        if messages.count():
            msg_id = re.match(r"#(\d+)", messages.first.inner_text().strip()).group(1)
            messages.first.click()
            expect(status(widget)).to_have_text(f"✓ cluster.step({msg_id})")
        else:
            button(widget, "Tick").click()
            expect(status(widget)).to_have_text("✓ cluster.tick()")
    tab(widget, "Diagram").click()
    shot(widget, "views-3-strip-during-reconfiguration")
    strip(widget).screenshot(path=str(SCREENSHOTS / "views-3-strip-during-reconfiguration-strip.png"))

    text_box(widget, "ticks").fill("3")
    button(widget, "Run").click()
    expect(status(widget)).to_have_text("✓ cluster.run(ticks=3)")
    expect(node_in_diagram(widget, 4)).to_contain_text("c2")
    expect(strip(widget)).to_contain_text("✓ node 4 running")
    after = centres(widget, (1, 2, 3, 4))
    shot(widget, "views-4-node-4-joined")

    tab(widget, "Storage").click()
    storage = widget.locator("table.omnilab-storage")  # one table per configuration
    expect(storage).to_have_count(2)
    expect(storage.last).to_be_visible()
    shot(widget, "views-5-storage")
    storage_text = pane(storage.first).inner_text()

    tab(widget, "Diagram").click()
    svg_title = widget.locator(".omnilab-diagram svg > g > title").first.text_content()
    tips = widget.locator(".omnilab-diagram svg a").evaluate_all(
        "links => links.map(a => a.getAttribute('xlink:title') || a.getAttribute('title') || '')")

    # The same lab in JupyterLab's dark theme.
    lab.menu("Settings", "Theme", "JupyterLab Dark")
    lab.page.wait_for_selector("body[data-jp-theme-light='false']", state="attached")
    lab.page.wait_for_timeout(500)  # the theme's stylesheet is applied
    shot(widget, "views-6-dark-diagram")
    tab(widget, "Logs").click()
    expect(widget.locator("table.omnilab-table td.stopsign").first).to_be_visible()
    shot(widget, "views-7-dark-logs")
    text_box(widget, "ticks").fill("²")
    button(widget, "Run").click()
    expect(status(widget)).to_contain_text("'²' is not a number of ticks")
    shot(widget, "views-8-dark-bad-input")
    colours = widget.evaluate("""w => {
        const css = el => getComputedStyle(el).color;
        return {
            badge: css(w.querySelector('.omnilab-badge')),
            status: css(w.querySelector('.omnilab-status')),
            stage: css(w.querySelector('.omnilab-reconfiguration')),
            cell: css(w.querySelector('table.omnilab-table td.decided')),
            page: (() => {  // what the widget is drawn on: its first ancestor with a background
                for (let el = w; el; el = el.parentElement) {
                    const bg = getComputedStyle(el).backgroundColor;
                    if (bg && bg !== 'transparent' && !bg.startsWith('rgba(0, 0, 0, 0)')) return bg;
                }
                return getComputedStyle(document.body).backgroundColor;
            })(),
        };
    }""")
    lab.menu("Settings", "Theme", "JupyterLab Light")
    lab.page.wait_for_selector("body[data-jp-theme-light='true']", state="attached")

    # --- the checks (after every screenshot) ------------------------------------------------------
    assert "… accepted by" in proposed or "✓ accepted by" in proposed, proposed
    assert during is not None, "never saw the StopSign decided before node 4 ran"
    assert "… node 4" in during or "… instances of c2 started" in during, during
    moved = {pid: (round(x, 2), round(y, 2)) for pid, (x, y) in normalised(before).items()}
    kept = {pid: (round(x, 2), round(y, 2)) for pid, (x, y) in normalised(after).items() if pid != 4}
    assert all(math.dist(moved[p], kept[p]) < 0.03 for p in (1, 2, 3)), (moved, kept)
    assert after[4][0] > max(after[p][0] for p in (1, 2, 3))  # node 4 to the right of the ring
    assert "configuration 1 [1, 2, 3]" in storage_text and "configuration 2 [1, 2, 4]" in storage_text
    assert "from c1: a=1, b=2" in storage_text
    assert svg_title.startswith("cluster of nodes 1, 2, 3, 4; leader 4; configuration 2"), svg_title
    assert any(t.startswith("node 4 (the leader)") for t in tips), tips[:5]
    assert any(t.startswith("link 1 ↔ 2") for t in tips)

    def luminance(css: str) -> float:
        r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
        return (0.299 * r + 0.587 * g + 0.114 * b) / 255

    assert luminance(colours["page"]) < 0.3, colours  # dark indeed
    assert luminance(colours["badge"]) < 0.3 and luminance(colours["cell"]) < 0.3, colours  # dark on light fills
    assert luminance(colours["stage"]) > 0.6, colours  # the strip's text follows the theme
    assert luminance(colours["status"]) > 0.4, colours  # the warning is readable on the dark page


# --- click-to-update times -------------------------------------------------------------------------------

BIG = [
    "import omnilab\nfrom omnilab.sim import Cluster\n"
    "big = Cluster([1, 2, 3, 4, 5], seed=0)\nbig.run(ticks=3)\n"
    "for i in range(100):\n    big.put(f'k{i % 50}', i)\nbig.run(ticks=1)",
    "wb = omnilab.lab(big)\nwb",
]
PRESSES = 5
# Measured in the page: from the button's click event to the first frame painted after the status
# line shows the expected call and the watched pane has new HTML (a MutationObserver sees both).
# Nothing of Playwright's own polling is in the figure.
CLICK_JS = """async ([root, label, expected, pane]) => {
    const button = [...root.querySelectorAll('.widget-button')].find(b => b.textContent.trim() === label);
    const before = pane.innerHTML;
    const done = () => {
        const s = root.querySelector('.omnilab-status');
        return s !== null && s.textContent.trim() === expected && pane.innerHTML !== before;
    };
    const start = performance.now();
    return await new Promise((resolve, reject) => {
        const observer = new MutationObserver(() => {
            if (!done()) return;
            observer.disconnect();
            requestAnimationFrame(() => resolve(performance.now() - start));
        });
        observer.observe(root, {subtree: true, childList: true, characterData: true});
        setTimeout(() => { observer.disconnect(); reject(new Error('no update 30 s after ' + label)); }, 30000);
        button.click();
    });
}"""


def pane(inner):
    """The HTML widget's content box around `inner`: it stays while its HTML is replaced."""
    return inner.locator("xpath=ancestor-or-self::div[contains(@class, 'widget-html-content')][1]")


def click_medians(lab, name: str, first_cell: str = "") -> dict:
    """Median click-to-update per control, on the 5-node lab of `BIG` (`first_cell` runs first)."""
    widget = open_lab(lab, name, ([first_cell] if first_cell else []) + BIG)
    root = widget.element_handle()
    title = pane(widget.locator(".widget-html", has_text="omnilab lab").first.locator(".widget-html-content"))
    diagram = pane(widget.locator(".omnilab-diagram"))
    figures: dict[str, list] = {}

    def click(name: str, label: str, expected: str, watched) -> None:
        ms = lab.page.evaluate(CLICK_JS, [root, label, expected, watched.element_handle()])
        figures.setdefault(name, []).append(ms)

    node = widget.locator(".widget-dropdown", has=lab.page.locator("label:text-is('node')")).locator("select")
    key, value = widget.locator("input[placeholder='key']"), widget.locator("input[placeholder='value']")
    for k in range(PRESSES):  # each click's status differs from the one before it
        click("Tick", "Tick", "✓ cluster.tick()", diagram)
        click("Step", "Step", "✓ cluster.step()", diagram)
        click("Deliver all", "Deliver all", "✓ cluster.deliver_all()", diagram)
        text_box(widget, "ticks").fill("1")
        text_box(widget, "ticks").press("Tab")
        click("Run (1 tick)", "Run", "✓ cluster.run(ticks=1)", title)
        node.select_option(label="1")
        click("Crash", "Crash", "✓ cluster.crash(1)", diagram)
        click("Recover", "Recover", "✓ cluster.recover(1)", diagram)
        key.fill(f"x{k}")
        key.press("Tab")
        value.fill(str(k))
        value.press("Tab")
        click("Put", "Put", f"✓ cluster.put('x{k}', {k})", diagram)
        click("Cut", "Cut", "✓ cluster.cut(1, 2)", diagram)
        click("Heal all", "Heal all", "✓ cluster.heal()", diagram)
        tab(widget, "Logs").click()
        logs = pane(widget.locator("table.omnilab-table").first)
        click("Deliver all (Logs tab)", "Deliver all", "✓ cluster.deliver_all()", logs)
        tab(widget, "Diagram").click()
    return {name: statistics.median(values) for name, values in figures.items()}


def test_click_to_update_medians(lab, capsys):
    """Figures only. With ``OMNILAB_COMPARE_WITH=/path/to/another/checkout`` the same clicks also run
    on that checkout's omnilab (its path first in the kernel's ``sys.path``), side by side."""
    other = os.environ.get("OMNILAB_COMPARE_WITH")
    columns = {"this checkout": click_medians(lab, "lab-clicks.ipynb")}
    if other:
        check = (f"import sys\nsys.path.insert(0, {other!r})\nimport omnilab\n"
                 f"assert omnilab.__file__.startswith({other!r}), omnilab.__file__")
        columns[other] = click_medians(lab, "lab-clicks-other.ipynb", check)
    names = list(columns["this checkout"])
    header = "".join(f"{title[-22:]:>24}" for title in columns)
    lines = [f"  {'control':<26}{header}"] + [
        f"  {name:<26}" + "".join(f"{values[name]:>21.0f} ms" for values in columns.values()) for name in names]
    text = (f"median click-to-update in JupyterLab (headless Chromium, measured in the page), 5 nodes / 100 "
            f"entries, {PRESSES} presses each:\n" + "\n".join(lines))
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "views-click-medians.txt").write_text(text + "\n", encoding="utf-8")
    with capsys.disabled():
        print("\n" + text)
