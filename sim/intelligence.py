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
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from sim.frictions import noisy_days, to_whole_days

if TYPE_CHECKING:
    from sim.model import CooperationModel


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


def leak_probability(data_security, confidentiality, on_platform, *, base, platform_factor):
    """Chance that a shared item leaks at the recipient.

    Falls with the recipient's data security and confidentiality standards;
    a secure platform multiplies it by ``platform_factor``.
    """
    p = (
        base
        * (1.0 - np.asarray(data_security))
        * (1.0 - 0.8 * np.asarray(confidentiality))
        * np.where(on_platform, platform_factor, 1.0)
    )
    return np.clip(p, 0.0, 1.0)


class IntelligenceSharing:
    """Produces, shares and delivers intelligence items; keeps the record of shares.

    Args:
        model: The model whose world, trust and cases are used.

    Attributes:
        items: Number of items produced.
        shares: Columns of the share record: item, sharer, recipient, t_shared,
            t_delivered, leaked, platform.
    """

    COLUMNS = (
        "item",
        "case",
        "sharer",
        "recipient",
        "t_shared",
        "t_delivered",
        "leaked",
        "platform",
    )

    def __init__(self, model: CooperationModel):
        self.model = model
        self.items = 0
        self.shares: dict[str, list] = {c: [] for c in self.COLUMNS}
        self._due: dict[int, list[int]] = defaultdict(list)
        self.incidents_prevented = 0
        self.cases_helped = 0
        self.leaks = 0

    def produce(self, case_ids: np.ndarray) -> None:
        """Create items from new cases and decide, per partner, whether to share them."""
        m = self.model
        cfg, w, rng = m.config.intelligence, m.world, m.rng
        if case_ids.size == 0 or w.n_states < 2:
            return
        security = m.security_type[m.cases.case_type[case_ids]]
        rate = np.where(security, cfg.items_per_security_case, cfg.items_per_other_case)
        n_items = rng.poisson(rate)
        items, sharers, recipients, cases = [], [], [], []
        alliance_members = np.flatnonzero(w.alliance)
        producing = case_ids[n_items > 0]
        # The states each producing case sent requests to, read in one pass.
        counts = m.cases._count[producing].tolist()
        requested = m.ledger.requested_state[m.cases.request_ids(producing)].tolist()
        origins = m.cases.origin[producing].tolist()
        at = 0
        for case, count, origin, n_requests in zip(
            producing.tolist(), n_items[n_items > 0].tolist(), origins, counts, strict=True
        ):
            partners = set(requested[at : at + n_requests])
            at += n_requests
            if w.alliance[origin] and cfg.alliance_partners > 0 and alliance_members.size > 1:
                others = alliance_members[alliance_members != origin]
                k = min(cfg.alliance_partners, others.size)
                partners.update(rng.choice(others, size=k, replace=False).tolist())
            partners.discard(origin)
            for _ in range(count):
                item = self.items
                self.items += 1
                for partner in sorted(partners):
                    items.append(item)
                    sharers.append(origin)
                    recipients.append(partner)
                    cases.append(case)
        if not items:
            return
        sharer = np.asarray(sharers)
        recipient = np.asarray(recipients)
        p = share_probability(
            m.trust.get(sharer, recipient, m.day),
            w.alliance[sharer] & w.alliance[recipient],
            w.confidentiality[recipient],
            base=cfg.share_base,
            alliance_bonus=cfg.alliance_share_bonus,
            confidentiality_bonus=cfg.confidentiality_share_bonus,
        )
        shared = rng.random(p.size) < p
        platform = w.platform[sharer] & w.platform[recipient]
        mean = np.where(platform, cfg.platform_days, cfg.sharing_days)
        delay = to_whole_days(noisy_days(rng, mean, m.config.drafting.noise_sigma))
        for k in np.flatnonzero(shared).tolist():
            share = len(self.shares["item"])
            for column, value in (
                ("item", items[k]),
                ("case", cases[k]),
                ("sharer", sharers[k]),
                ("recipient", recipients[k]),
                ("t_shared", m.day),
                ("t_delivered", -1),
                ("leaked", False),
                ("platform", bool(platform[k])),
            ):
                self.shares[column].append(value)
            self._due[m.day + int(delay[k])].append(share)
        m.add_effort("intelligence_service", sharer[shared])

    def deliver(self) -> None:
        """Deliver today's items: leaks cost trust; useful items help related cases."""
        m = self.model
        due = self._due.pop(m.day, None)
        if not due:
            return
        cfg, w, rng = m.config.intelligence, m.world, m.rng
        ids = np.asarray(due)
        # Gather only today's rows: converting the whole record would cost what waits.
        shares = self.shares
        sharer = np.asarray([shares["sharer"][k] for k in due])
        recipient = np.asarray([shares["recipient"][k] for k in due])
        platform = np.asarray([shares["platform"][k] for k in due])
        p_leak = leak_probability(
            w.data_security[recipient],
            w.confidentiality[recipient],
            platform,
            base=cfg.leak_base,
            platform_factor=cfg.platform_leak_factor,
        )
        leaked = rng.random(ids.size) < p_leak
        prevent = rng.random(ids.size) < cfg.prevention_probability
        for k, share in enumerate(ids.tolist()):
            self.shares["t_delivered"][share] = m.day
            if leaked[k]:
                self.shares["leaked"][share] = True
                self.leaks += 1
                m.trust.penalise(sharer[k], recipient[k], cfg.leak_trust_loss, m.day)
                continue
            m.trust.reward(recipient[k], sharer[k], cfg.gain_on_share, m.day)
            self.incidents_prevented += int(prevent[k])
            case_type = m.cases.case_type[self.shares["case"][share]]
            if m.extend_related_case(int(recipient[k]), int(case_type), cfg.lead_days):
                self.cases_helped += 1

    def outcomes(self) -> dict:
        """Counts and rates of intelligence sharing for the run's outcomes."""
        leaked = np.asarray(self.shares["leaked"], dtype=bool)
        delivered = np.asarray(self.shares["t_delivered"]) >= 0
        days = np.asarray(self.shares["t_delivered"]) - np.asarray(self.shares["t_shared"])
        platform = np.asarray(self.shares["platform"], dtype=bool)

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
