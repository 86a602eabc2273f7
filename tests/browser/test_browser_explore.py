"""09-exploring-schedules in a real JupyterLab: Run All works, and the lab opens on the explorer's
counterexample at its violating step, the violated invariant named in the status line and its badge
red; Undo walks back one choice, to a step where the invariant still holds."""

import pytest
from playwright.sync_api import expect

from test_browser_lab import button, shot, status

pytestmark = pytest.mark.browser


def test_the_lab_opens_on_the_counterexample_at_its_violating_step(lab):
    lab.page.set_viewport_size({"width": 1300, "height": 2000})
    lab.open_notebook("09-exploring-schedules.ipynb")
    saved = lab.run_all(timeout_ms=240_000)
    assert not any("NBVAL" in "".join(cell["source"]) for cell in saved["cells"])

    widget = lab.outputs.locator(".omnilab-lab").first
    widget.scroll_into_view_if_needed()
    expect(status(widget)).to_contain_text("explore: the last step violates StopSignSeal")
    red = widget.locator(".omnilab-badge.violated", has_text="StopSignSeal")
    expect(red).to_have_count(1)
    expect(widget.locator(".omnilab-badge.ok", has_text="StopSignSeal")).to_have_count(0)
    shot(widget, "explore-counterexample-in-the-lab")

    button(widget, "Undo").click()
    expect(widget.locator(".omnilab-badge.ok", has_text="StopSignSeal")).to_have_count(1)
    expect(widget.locator(".omnilab-badge.violated")).to_have_count(0)
