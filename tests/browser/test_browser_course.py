"""06-reconfiguration in a real JupyterLab: Run All works, and the learner reads rich tables (the
coloured log table with the decided StopSign, HTML DataFrames), never text wrapped at the window."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_reconfiguration_shows_the_decided_stopsign_as_a_rich_table(lab):
    lab.open_notebook("06-reconfiguration.ipynb")
    saved = lab.run_all(timeout_ms=240_000)
    assert not any("NBVAL" in "".join(cell["source"]) for cell in saved["cells"])  # no test plumbing on show

    decided = lab.notebook.locator(".omnilab-table td.stopsign", has_text="StopSign→c2 [1, 2, 4] ✓")
    expect(decided.first).to_be_visible()
    table = decided.first.locator("xpath=ancestor::table[1]")
    table.scroll_into_view_if_needed()
    # Colour is never the only cue: the legend names each status, and the caption names the crashed node.
    wrap = decided.first.locator("xpath=ancestor::div[contains(@class, 'omnilab-table-wrap')][1]")
    expect(wrap.locator(".omnilab-legend")).to_contain_text("StopSign (decided)")
    expect(table.locator("caption")).to_contain_text("node 3 crashed")
    # Plain DataFrames render as HTML tables too (nodes, messages, key-value state).
    assert lab.notebook.locator(".jp-RenderedHTMLCommon table.dataframe").count() >= 10
    # No table was printed as text: no checked output in the notebook is a stream holding a frame.
    streams = "".join("".join(o.get("text", "")) for c in saved["cells"] for o in c.get("outputs", [])
                      if o.get("output_type") == "stream")
    assert not re.search(r"^configuration\s+config 1", streams, re.MULTILINE)

    shot = lab.screenshot("reconfiguration-run-all")
    table.screenshot(path=str(shot.with_name("reconfiguration-decided-stopsign.png")))
