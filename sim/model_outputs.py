"""What a run gives out: its outcomes, daily series, per-agency backlog and ledger as frames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim import metrics
from sim.memory import in_ordinary_pages

# The columns of the ledger and the case book the outcomes read whole (sim.metrics and
# the submodels' outcomes): they are copied once before (ledger and case book are
# kept in rows, sim.columns.RowTable); one left out is read through its strided view,
# slower and the same. tests/test_row_table.py checks the lists against the reads.
LEDGER_COLUMNS_READ = (
    "case", "kind", "requesting_state", "requested_state", "instrument", "channel",
    "consent", "outcome", "refusal_ground", "t_created", "t_issued", "t_received",
    "t_decided", "t_executed", "t_closed",
)  # fmt: skip
CASE_COLUMNS_READ = ("origin", "case_type", "status", "t_created", "t_closed")


class ModelOutputs:
    """Part of :class:`~sim.model.CooperationModel`: the run's outputs."""

    @in_ordinary_pages  # its temporaries span the ledger (sim.memory)
    def outcomes(self) -> dict[str, Any]:
        """Outcomes of the run so far (see :func:`sim.metrics.compute_outcomes`)."""
        # Passes over whole columns of tables kept in rows (sim.columns.RowTable).
        with (
            self.ledger.read_as_columns(LEDGER_COLUMNS_READ),
            self.cases.read_as_columns(CASE_COLUMNS_READ),
        ):
            return metrics.compute_outcomes(self)

    def series_frame(self) -> pd.DataFrame:
        """Daily series of the days simulated so far."""
        df = pd.DataFrame({k: v[: self.day] for k, v in self.series.items()})
        df.insert(0, "day", np.arange(self.day))
        return df

    def agency_series_frame(self) -> pd.DataFrame:
        """Daily queue length of every queueing agency, one row per agency and day.

        Columns: day, agency (its index), state (code), role, backlog (live requests
        waiting at the end of the day). Agencies added during the run (a national
        security court) have backlog 0 before they exist.
        """
        queueing = [a for a in self.agency_list if a.queue_family]
        index = np.asarray([a.index for a in queueing], dtype=np.int64)
        days = np.arange(self.day)
        codes = np.asarray(self.world.codes)
        return pd.DataFrame(
            {
                "day": np.repeat(days, index.size).astype(np.int32),
                "agency": np.tile(index, days.size).astype(np.int32),
                "state": pd.Categorical(
                    np.tile(codes[[a.state.index for a in queueing]], days.size)
                ),
                "role": pd.Categorical(np.tile([a.role for a in queueing], days.size)),
                "backlog": self.agency_backlog[: self.day][:, index].reshape(-1),
            }
        )

    def levers_frame(self) -> pd.DataFrame:
        """When each lever took effect in each state: one row per lever and state it reached.

        Columns: lever, state (code), day (the day the lever's effect was applied to the
        state: an imposed lever's start day, the day an adopter adopted), how
        (``imposed`` or ``adopted``). From the policy's record
        (:attr:`sim.policy.PolicyState.in_force_since`); no rows before any lever acts.
        """
        codes = np.asarray(self.world.codes)
        rows = []
        for lever, days in self.policy.in_force_since.items():
            how = "adopted" if lever in self.adoption.levers else "imposed"
            for state in np.flatnonzero(days >= 0).tolist():
                rows.append((lever, str(codes[state]), int(days[state]), how))
        frame = pd.DataFrame(rows, columns=["lever", "state", "day", "how"])
        return frame.astype({"lever": str, "state": str, "day": np.int64, "how": str})

    def ledger_frame(self) -> pd.DataFrame:
        """The request ledger with readable labels and state codes."""
        df = self.ledger.to_dataframe()
        codes = np.asarray(self.world.codes)
        for col in ("requesting_state", "requested_state"):
            df[col] = codes[df[col].to_numpy()]
        return df
