"""The lab widget in a real JupyterLab (headless Chromium): clicks change the cluster and the views follow.

One notebook shows ``omnilab.lab(scenarios.replace_crashed_node())``. The test clicks through the
stages a learner would (step, drop and duplicate a message, crash node 3, cut a link one way, raise
node 1's priority and make it leader, snapshot and trim the log, replace node 3 with node 4, type a
bad node list),
saves a screenshot of the widget after each stage under ``tests/browser/screenshots/`` (ignored by
git) and prints how long each click took to show up in the page (a figure, never asserted).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import expect

from omnilab.view import palette as P

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # as in conftest.py; ignored by git

pytestmark = pytest.mark.browser

NOTEBOOK = "lab-in-the-browser.ipynb"
CELLS = [
    "import omnilab\nfrom omnilab.sim import scenarios\ncluster = scenarios.replace_crashed_node()",
    "w = omnilab.lab(cluster)\nw",
]


@pytest.fixture
def lab_page(lab):
    notebook = new_notebook(cells=[new_code_cell(source) for source in CELLS], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(notebook, lab.server.root_dir / NOTEBOOK)
    lab.page.set_viewport_size({"width": 1300, "height": 2000})  # the whole widget on screen, for screenshots
    lab.open_notebook(NOTEBOOK)
    lab.run_all()
    widget = lab.outputs.locator(".omnilab-lab")
    expect(widget).to_be_visible()
    return lab, widget


class Timer:
    """Click-to-update times, printed at the end of the test."""

    def __init__(self) -> None:
        self.figures: list[tuple[str, float]] = []

    def click(self, name: str, target, until) -> None:
        start = time.perf_counter()
        target.click()
        until()
        self.figures.append((name, (time.perf_counter() - start) * 1000))

    def report(self, capsys) -> None:
        lines = [f"  {name:<52} {ms:7.0f} ms" for name, ms in self.figures]
        text = "click-to-update in JupyterLab (headless Chromium):\n" + "\n".join(lines)
        SCREENSHOTS.mkdir(exist_ok=True)
        (SCREENSHOTS / "lab-click-to-update.txt").write_text(text + "\n", encoding="utf-8")
        with capsys.disabled():
            print("\n" + text)


def button(widget, label: str):
    return widget.locator(".widget-button", has_text=re.compile(f"^\\s*{re.escape(label)}\\s*$")).first


def tab(widget, title: str):
    return widget.locator(".lm-TabBar-tab", has_text=re.compile(f"^{re.escape(title)}$"))


def select(widget, description: str, value: str) -> None:
    box = widget.locator(".widget-dropdown", has=widget.page.locator(f"label:text-is('{description}')"))
    box.locator("select").select_option(label=value)


def choose_message(widget, msg_id: str) -> None:
    """Choose message `msg_id` in the message dropdown (its label is ``#id sender→receiver Kind``;
    ipywidgets shows its spaces as no-break spaces)."""
    box = widget.locator(".widget-dropdown", has=widget.page.locator("label:text-is('message')")).locator("select")
    labels = [label.replace("\xa0", " ").strip() for label in box.locator("option").all_inner_texts()]
    box.select_option(index=next(k for k, label in enumerate(labels) if label.startswith(f"#{msg_id} ")))


def checkbox(widget, description: str):
    return widget.locator(".widget-checkbox", has_text=description).locator("input[type=checkbox]")


def text_box(widget, description: str):
    return widget.locator(".widget-text", has=widget.page.locator(f"label:text-is('{description}')")).locator("input")


def status(widget):
    return widget.locator(".omnilab-status")


def node_in_diagram(widget, pid: int):
    """Node `pid`'s group in the cluster diagram's SVG (graphviz names the group by its title)."""
    return widget.locator(".omnilab-diagram svg g.node").filter(
        has=widget.page.locator(f"title:text-is('{pid}')"))


def shot(widget, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    widget.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def message_ids(widget) -> list[str]:
    return widget.locator("table.omnilab-messages tbody th").all_inner_texts()


def test_a_learner_steps_crashes_and_replaces_a_node_in_jupyterlab(lab_page, capsys):
    lab, widget = lab_page
    timer = Timer()
    expect(node_in_diagram(widget, 3)).to_contain_text("crashed")
    shot(widget, "lab-1-opened")

    # --- Step: the messages table changes ------------------------------------------------------
    tab(widget, "Messages").click()
    expect(widget.locator(".omnilab-messages, .widget-html i", has_text=re.compile("."))).not_to_have_count(0)
    timer.click("Tick -> messages table filled", button(widget, "Tick"),
                lambda: expect(widget.locator("table.omnilab-messages tbody tr")).not_to_have_count(0))
    before = message_ids(widget)
    assert len(before) >= 2, before
    timer.click("Step -> oldest message gone from the table", button(widget, "Step"),
                lambda: expect(widget.locator("table.omnilab-messages tbody th").first).not_to_have_text(before[0]))
    after = message_ids(widget)
    assert before[0] not in after
    expect(status(widget)).to_have_text("✓ cluster.step()")
    # Clicking a message in the list delivers that one.
    chosen = widget.locator(".omnilab-message").nth(1)
    chosen_id = re.match(r"#(\d+)", chosen.inner_text().strip()).group(1)
    timer.click("click a message in the list -> delivered", chosen,
                lambda: expect(status(widget)).to_have_text(f"✓ cluster.step({chosen_id})"))
    expect(widget.locator("table.omnilab-messages tbody th", has_text=re.compile(f"^{chosen_id}$"))).to_have_count(0)
    shot(widget, "lab-2-after-step")

    # --- Drop and Duplicate act on the message chosen in the dropdown ------------------------------
    ids = message_ids(widget)
    assert len(ids) >= 2, ids
    choose_message(widget, ids[1])
    timer.click("Drop a chosen message -> gone from the table", button(widget, "Drop"),
                lambda: expect(status(widget)).to_have_text(f"✓ cluster.drop({ids[1]})"))
    expect(widget.locator("table.omnilab-messages tbody th", has_text=re.compile(f"^{ids[1]}$"))).to_have_count(0)
    count = len(message_ids(widget))
    choose_message(widget, ids[0])
    timer.click("Duplicate a chosen message -> a copy in the table", button(widget, "Duplicate"),
                lambda: expect(widget.locator("table.omnilab-messages tbody tr")).to_have_count(count + 1))
    expect(status(widget)).to_have_text(f"✓ cluster.duplicate({ids[0]})")
    shot(widget, "lab-2b-drop-duplicate")

    # --- Crash node 3 (it starts crashed: recover it, then crash it) -----------------------------
    tab(widget, "Diagram").click()
    select(widget, "node", "3")
    timer.click("Recover 3 -> diagram redrawn", button(widget, "Recover"),
                lambda: expect(node_in_diagram(widget, 3)).not_to_contain_text("crashed"))
    timer.click("Crash 3 -> node 3 crashed in the diagram", button(widget, "Crash"),
                lambda: expect(node_in_diagram(widget, 3)).to_contain_text("✗ crashed"))
    expect(status(widget)).to_have_text("✓ cluster.crash(3)")
    outline = node_in_diagram(widget, 3).locator("path, polygon").first
    assert outline.get_attribute("stroke-dasharray") and outline.get_attribute("stroke") == P.CRASHED_STROKE
    shot(widget, "lab-3-node-3-crashed")

    # --- Cut one way: only 1 -> 2 is cut, and the diagram says which way --------------------------
    select(widget, "link", "1")
    checkbox(widget, "one way").check()
    select(widget, "→", "2")
    timer.click("Cut 1 → 2 one way -> diagram shows the cut", button(widget, "Cut"),
                lambda: expect(widget.locator(".omnilab-diagram")).to_contain_text("✂ 1→2"))
    expect(status(widget)).to_have_text("✓ cluster.cut(1, 2, one_way=True)")
    shot(widget, "lab-3b-one-way-cut")
    button(widget, "Heal link").click()
    expect(status(widget)).to_have_text("✓ cluster.heal(1, 2)")
    checkbox(widget, "one way").uncheck()

    # --- Leadership: node 1 gets priority 5 and takes over -----------------------------------------
    tab(widget, "Nodes").click()
    select(widget, "node", "1")
    text_box(widget, "priority").fill("5")
    text_box(widget, "priority").press("Tab")  # a number box sends its value when it loses focus
    timer.click("Set priority -> status shows the call", button(widget, "Set priority"),
                lambda: expect(status(widget)).to_have_text("✓ cluster.set_priority(1, 5)"))
    button(widget, "Try become leader").click()
    expect(status(widget)).to_have_text("✓ cluster.try_become_leader(1)")
    row1 = widget.locator("table.omnilab-nodes tbody tr").filter(has=lab.page.locator("th:text-is('1')"))
    timer.click("Deliver all -> node 1 leads in the Nodes tab", button(widget, "Deliver all"),
                lambda: expect(row1.locator("td").nth(1)).to_have_text("Leader"))
    expect(row1.locator("td").nth(3)).to_contain_text("/p5")  # its ballot carries the priority
    shot(widget, "lab-3c-leader")
    # The table is wider than the tab: it scrolls sideways to BLE's columns instead of cutting them off.
    happy = widget.locator("table.omnilab-nodes thead th", has_text=re.compile("^ble_happy$"))
    happy.scroll_into_view_if_needed()
    expect(happy).to_be_in_viewport()
    assert row1.locator("td").last.inner_text() == "True"
    shot(widget, "lab-3c-leader-scrolled")

    # --- Compaction: Snapshot below idx 2 at the leader; Trim at a follower is refused ------------
    tab(widget, "Logs").click()
    text_box(widget, "below idx").fill("2")
    timer.click("Snapshot 2 -> status shows the call", button(widget, "Snapshot"),
                lambda: expect(status(widget)).to_have_text("✓ cluster.snapshot(2)"))
    button(widget, "Deliver all").click()
    expect(widget.locator("table.omnilab-table td.compacted")).to_have_count(4)  # idx 0 and 1 at nodes 1, 2
    compaction_row = widget.locator(".widget-hbox", has=lab.page.locator(".widget-button", has_text=re.compile(
        r"^\s*Trim\s*$")))
    compaction_row.locator(".widget-dropdown select").select_option(label="2")
    text_box(widget, "below idx").fill("")
    timer.click("Trim at a follower -> refusal in the status line", button(widget, "Trim"),
                lambda: expect(status(widget)).to_contain_text("refused by the replica: CompactionErr.NotCurrentLeader"))
    expect(widget.locator(".widget-html", has=lab.page.locator(".omnilab-status"))).to_contain_text(
        "recorded: cluster.trim(at=2)")
    expect(lab.notebook.locator("[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)
    shot(widget, "lab-3d-compaction")
    compaction_row.locator(".widget-dropdown select").select_option(label="leader")
    tab(widget, "Diagram").click()

    # --- Reconfigure to 1, 2, 4 and run: node 4 in configuration 2 with the whole state ------------
    text_box(widget, "nodes").fill("1, 2, 4")
    timer.click("Reconfigure -> status shows the call", button(widget, "Reconfigure"),
                lambda: expect(status(widget)).to_have_text("✓ cluster.reconfigure([1, 2, 4])"))
    timer.click("Run 3 ticks -> configuration 2 drawn", button(widget, "Run"),
                lambda: expect(widget.locator(".omnilab-diagram")).to_contain_text("configuration 2"))
    expect(node_in_diagram(widget, 4)).to_contain_text("c2")
    tab(widget, "Nodes").click()
    row4 = widget.locator("table.omnilab-nodes tbody tr").filter(has=lab.page.locator("th:text-is('4')"))
    expect(row4.locator("td").first).to_have_text("2")  # the configuration column
    tab(widget, "Key-value").click()
    kv = widget.locator("table.omnilab-kv")
    expect(kv.locator("thead th", has_text="node 4")).to_have_count(1)  # drawn when the tab is shown
    headers = kv.locator("thead th").all_inner_texts()
    column = headers.index("node 4")  # the index header comes first, as in the rows
    for key, value in (("a", "1"), ("b", "2")):
        row = kv.locator("tbody tr").filter(has=lab.page.locator(f"th:text-is('{key}')"))
        assert row.locator("th, td").nth(column).inner_text() == value
    shot(widget, "lab-4-reconfigured")
    tab(widget, "Logs").click()
    expect(widget.locator("table.omnilab-table td.stopsign").first).to_contain_text("StopSign→c2 [1, 2, 4]")
    shot(widget, "lab-5-logs")

    # --- A bad node list: a message in the status line, nothing changes ---------------------------
    text_box(widget, "nodes").fill("1, two, 4")
    timer.click("bad node list -> status message", button(widget, "Reconfigure"),
                lambda: expect(status(widget)).to_contain_text("is not a list of nodes"))
    expect(status(widget)).to_contain_text("⚠")
    expect(lab.notebook.locator("[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)
    shot(widget, "lab-6-bad-node-list")

    tab(widget, "Space-time").click()
    expect(widget.locator(".omnilab-spacetime svg")).to_be_visible()
    shot(widget, "lab-7-spacetime")

    # --- A call typed in another cell redraws the widget -----------------------------------------
    tab(widget, "Diagram").click()
    expect(node_in_diagram(widget, 3)).to_contain_text("crashed")
    lab.notebook.locator(".jp-Cell .jp-InputArea-editor").last.click()
    lab.page.keyboard.press("Escape")
    lab.page.keyboard.press("b")  # a new cell below, as a learner would add one
    lab.page.keyboard.press("Enter")
    lab.page.keyboard.type("cluster.recover(3)")
    start = time.perf_counter()
    lab.page.keyboard.press("Shift+Enter")
    expect(node_in_diagram(widget, 3)).not_to_contain_text("crashed")
    timer.figures.append(("typed cluster.recover(3) -> diagram redrawn", (time.perf_counter() - start) * 1000))
    expect(widget.locator(".widget-html", has_text="omnilab lab").first).not_to_contain_text("crashed [3]")
    shot(widget, "lab-8-followed-a-typed-call")
    timer.report(capsys)
