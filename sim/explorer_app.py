"""The Solara app that ``coopsim explore`` serves (``solara run sim/explorer_app.py``).

The starting scenario comes from the ``COOPSIM_EXPLORER_SCENARIO`` environment
variable (set by :func:`sim.explorer.serve`); without it, the baseline.
"""

import os

import solara

from sim.explorer import SCENARIO_ENV, explorer


@solara.component
def Page():
    """One explorer page per browser session."""
    return explorer(os.environ.get(SCENARIO_ENV, "baseline"))
