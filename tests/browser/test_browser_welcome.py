"""The welcome notebook in a real JupyterLab: its cells run and its first control answers a click."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_tick_button_advances_the_label_in_jupyterlab(lab):
    lab.open_notebook("00-welcome.ipynb")
    saved = lab.run_all()
    # The cell that ticks twice from code (cell ids are generated: find it by what it does).
    clock_python = next(cell for cell in saved["cells"]
                        if cell["cell_type"] == "code" and "tick_button.click()" in "".join(cell["source"]))
    assert "".join(clock_python["outputs"][0]["text"]) == "2 | logical time: 2\n"

    # The notebook itself ticked twice (button.click() and the handler), and the label followed.
    label = lab.outputs.locator(".widget-label", has_text=re.compile(r"^logical time: \d+$"))
    expect(label).to_have_text("logical time: 2")
    # dot rendered the three servers as SVG.
    expect(lab.notebook.locator(".jp-RenderedSVG img")).to_have_count(1)

    lab.outputs.locator(".widget-button", has_text="Tick").click()
    expect(label).to_have_text("logical time: 3")
    lab.outputs.locator(".widget-button", has_text="Tick").click()
    expect(label).to_have_text("logical time: 4")
    lab.screenshot("welcome-after-two-ticks")
