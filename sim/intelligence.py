"""Proactive intelligence sharing between intelligence services (design process 8).

Each new case may yield intelligence items at the originating state's
intelligence service. The service offers each item to the states linked to the
case and to a few alliance partners; whether it shares depends on its trust in
the partner, alliance membership and the partner's confidentiality standards.
An item arrives after a delay (near zero over a secure platform). On arrival it
may leak, with a chance that falls with the recipient's data security and
confidentiality standards and is cut by a secure platform; a leak costs the
sharer's trust in the recipient sharply. An item that does not leak keeps a
related case of the recipient warm (its deadline moves later), may help prevent
an incident, and raises the recipient's trust in the sharer a little.

Production and sharing are compiled (:func:`sim.kernel_casegen.produce_items`, in case
generation), as is delivery (:func:`sim.kernel_day.deliver_today`, in the day's call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.kernel_calendar import DayCalendar
from sim.kernel_state import S_HELPED, S_ITEMS, S_LEAKS, S_PREVENTED, ShareArrays
from sim.requests import ColumnTable

if TYPE_CHECKING:
    from sim.contracts import IntelligenceHost


def share_probability(
    trust,
    both_in_alliance,
    recipient_confidentiality,
    *,
    base,
    alliance_bonus,
    confidentiality_bonus,
):
    """Chance a service shares an item with a partner.

    Args:
        trust: Sharer's trust in the partner (0-1).
        both_in_alliance: Both are members of the intelligence alliance.
        recipient_confidentiality: Partner's confidentiality standards (0-1).
        base: Chance at trust 1 without alliance or confidentiality bonus.
        alliance_bonus: Relative extra chance inside the alliance.
        confidentiality_bonus: Relative extra chance per unit of confidentiality.

    Returns:
        Probability, clipped to [0, 1].
    """
    p = (
        base
        * np.asarray(trust)
        * (1.0 + alliance_bonus * np.asarray(both_in_alliance))
        * (1.0 + confidentiality_bonus * np.asarray(recipient_confidentiality))
    )
    return np.clip(p, 0.0, 1.0)


def leak_probability(
    data_security, confidentiality, on_platform, *, base, platform_factor, confidentiality_cut
):
    """Chance that a shared item leaks at the recipient.

    Falls with the recipient's data security and confidentiality standards (full
    standards prevent the share ``confidentiality_cut`` of leaks); a secure
    platform multiplies it by ``platform_factor``.
    """
    p = (
        base
        * (1.0 - np.asarray(data_security))
        * (1.0 - confidentiality_cut * np.asarray(confidentiality))
        * np.where(on_platform, platform_factor, 1.0)
    )
    return np.clip(p, 0.0, 1.0)


class IntelligenceSharing:
    """Produces, shares and delivers intelligence items; keeps the record of shares.

    Args:
        model: The model whose world, trust and cases are used.

    Attributes:
        items: Number of items produced.
        shares: The share record, one row per item sent to one partner (a
            :class:`~sim.requests.ColumnTable`; ``shares["recipient"]`` is a column).
    """

    COLUMNS = {
        "item": (np.int64, 0),
        "case": (np.int64, 0),
        "sharer": (np.int16, 0),
        "recipient": (np.int16, 0),
        "t_shared": (np.int32, -1),
        "t_delivered": (np.int32, -1),
        "leaked": (np.bool_, False),
        "platform": (np.bool_, False),
    }

    def __init__(self, model: IntelligenceHost):
        self.model = model
        self.shares = ColumnTable(self.COLUMNS, initial_capacity=256)
        # Shared items by delivery day, delivered by the day's first kernel call
        # (sim.kernel_day.deliver_today).
        self.deliveries = DayCalendar(model.horizon_days, initial_capacity=256)
        # The running counts the kernels add to, at S_LEAKS, S_PREVENTED, S_HELPED, S_ITEMS.
        self.share_counts = np.zeros(S_ITEMS + 1, dtype=np.int64)
        cfg = model.config.intelligence
        # Items a case yields and partners it offers them to (sim.kernel_intelligence.offers).
        self._counts = (
            float(cfg.items_per_security_case),
            float(cfg.items_per_other_case),
            int(cfg.alliance_partners),
        )
        # share_decisions' numbers, as the kernel takes them
        self._numbers = (
            float(cfg.share_base),
            float(cfg.alliance_share_bonus),
            float(cfg.confidentiality_share_bonus),
            float(cfg.platform_days),
            float(cfg.sharing_days),
            float(model.config.drafting.noise_sigma),
        )
        # The delivery's numbers, at the S_ offsets of sim.kernel_state.
        self._delivery_numbers = np.array(
            [
                cfg.leak_base,
                cfg.platform_leak_factor,
                cfg.confidentiality_leak_cut,
                cfg.prevention_probability,
                cfg.leak_trust_loss,
                cfg.gain_on_share,
                cfg.lead_days,
                cfg.technology_security_weight,
            ],
            dtype=np.float64,
        )

    @property
    def leaks(self) -> int:
        """Items leaked so far."""
        return int(self.share_counts[S_LEAKS])

    @property
    def items(self) -> int:
        """Items produced so far."""
        return int(self.share_counts[S_ITEMS])

    @property
    def incidents_prevented(self) -> int:
        """Incidents that delivered items helped prevent, so far."""
        return int(self.share_counts[S_PREVENTED])

    @property
    def cases_helped(self) -> int:
        """Leads that moved an open case's deadline later, so far."""
        return int(self.share_counts[S_HELPED])

    def arrays(self) -> ShareArrays:
        """What the delivery kernel reads and writes (:func:`sim.kernel_day.deliver_today`)."""
        shares = self.shares
        return ShareArrays(
            shares.case,
            shares.sharer,
            shares.recipient,
            shares.platform,
            shares.t_delivered,
            shares.leaked,
            self._delivery_numbers,
            self.share_counts,
            shares.item,
            shares.t_shared,
            shares.n_rows,
        )

    def reserve(self, n: int) -> None:
        """Room for ``n`` more shares and their deliveries (the kernels record them)."""
        self.shares.reserve(n)
        self.deliveries.reserve(n)

    def offer_arguments(self) -> tuple:
        """What :func:`sim.kernel_casegen.produce_items` reads besides the struct, today."""
        m = self.model
        return (
            m.world.alliance,
            self._counts,
            m.operations.intelligence_terms(),
            self._numbers,
            m.intel_of,
        )

    def outcomes(self, since: int = 0) -> dict:
        """Counts and rates of intelligence sharing, over items shared from day ``since``.

        The running counters (items, incidents prevented, cases helped) cover the whole
        run; the model subtracts their values at the window's start.
        """
        shares = self.shares
        window = shares["t_shared"] >= since
        leaked = shares["leaked"][window]
        delivered = (shares["t_delivered"] >= 0)[window]
        days = (shares["t_delivered"] - shares["t_shared"])[window]
        platform = shares["platform"][window]

        def mean(mask):
            return float(days[mask].mean()) if mask.any() else float("nan")

        return {
            "intel_items": int(self.items),
            "intel_shared": int(len(leaked)),
            "leaks": int(leaked.sum()),
            "leak_rate": float(leaked.mean()) if leaked.size else float("nan"),
            "intel_delivery_days": mean(delivered),
            "intel_delivery_days_platform": mean(delivered & platform),
            "intel_delivery_days_conventional": mean(delivered & ~platform),
            "incidents_prevented": int(self.incidents_prevented),
            "cases_helped_by_intel": int(self.cases_helped),
        }
