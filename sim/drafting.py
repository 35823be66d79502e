"""Process 2: drafting requests (instrument, channel, drafting time), and requests that follow."""

from __future__ import annotations

import numpy as np

from sim import frictions
from sim.kernel_cases import consents_on_model_stream
from sim.requests import (
    Kind,
    Stage,
)


class Drafting:
    """Part of :class:`~sim.model.CooperationModel`: drafting the requests of new links."""

    # ------------------------------------------------------------------ process 2: drafting
    def _create_requests(
        self, case_ids, requesting, requested, kind, coercive, consent, national, in_team
    ) -> np.ndarray:
        """Draft the requests of new case links: instrument, channel and drafting time."""
        if np.size(case_ids) == 0:
            return np.empty(0, dtype=np.int64)
        w, cases = self.world, self.cases
        mr = w.mr_bloc[requesting] & w.mr_bloc[requested]
        treaty = w.treaty_matrix[requesting, requested]
        convention = w.convention[requesting] & w.convention[requested]
        instrument = frictions.choose_instrument(mr, treaty, convention)
        severity = cases.severity[case_ids]
        policy = self.policy
        channel = frictions.choose_channel(
            instrument,
            platform=w.platform[requesting] & w.platform[requested],
            urgent_contact=(severity >= policy.urgent_threshold[requesting])
            & w.contact_point[requesting]
            & w.contact_point[requested],
            in_team=in_team,
            formal=policy.formal_channel[requesting] | policy.formal_channel[requested],
        )
        case_type = cases.case_type[case_ids]
        ids = self.ledger.append(
            case=case_ids,
            kind=kind,
            requesting_state=requesting,
            requested_state=requested,
            instrument=instrument,
            channel=channel,
            security_case=self.security_type[case_type],
            coercive=coercive,
            consent=consent,
            national=national,
            severity=severity,
            political_sensitivity=cases.political_sensitivity[case_ids],
            stage=Stage.DRAFTING,
            t_created=self.day,
        )
        cases.add_requests(case_ids, ids)
        np.add.at(self.traffic, (requesting, requested), 1)
        d, j = self.config.drafting, self.config.jit
        mean = frictions.drafting_days(
            d.base_days,
            d.language_days,
            d.legal_distance_days,
            w.different_language[requesting, requested],
            w.legal_distance[requesting, requested],
            w.skill[requesting],
        )
        # Inside a team there is no formal request to draft: evidence moves once it is set up.
        mean = np.where(in_team, j.formation_days + j.exchange_days, mean)
        self._schedule(ids, Stage.DRAFTING, self._noisy(mean))
        return ids

    def open_formal_requests(
        self, requesting, requested, case_type, severity, sensitivity, deadline
    ) -> np.ndarray:
        """Data a provider did not give goes the formal route: a case and an MLA request each.

        The request asks the provider's state for the data; a court orders the
        provider to produce it (a coercive measure). The case goes cold at the
        investigation's deadline, like any other.

        Returns:
            The ledger ids of the new requests.
        """
        n = requesting.size
        no = np.zeros(n, dtype=bool)
        case_ids = self.cases.append(
            origin=requesting,
            case_type=case_type,
            severity=severity,
            political_sensitivity=sensitivity,
            t_created=self.day,
            t_deadline=deadline,
            needed=1,
        )
        ids = self._create_requests(
            case_ids,
            requesting,
            requested,
            np.full(n, Kind.MLA_EVIDENCE),
            np.ones(n, dtype=bool),
            no,
            no,
            no,
        )
        self._open += n
        self._file_deadlines(case_ids, deadline)
        return ids

    def request_extradition_after_arrest(self, case_ids, requesting, requested) -> None:
        """A member located a person sought by a notice: the formal extradition follows."""
        c = self.config.cases
        requesting, requested = np.asarray(requesting), np.asarray(requested)
        n = requesting.size
        national = self.rng.random(n) < c.national_share
        w = self.world
        consent = consents_on_model_stream(
            self.streams,
            requesting.astype(np.int64),
            requested.astype(np.int64),
            national,
            w.mr_bloc,
            w.rights_standard,
            self._case_parameters,
        )
        self._create_requests(
            np.asarray(case_ids),
            requesting,
            requested,
            np.full(n, Kind.EXTRADITION),
            np.zeros(n, dtype=bool),
            consent,
            national,
            np.zeros(n, dtype=bool),
        )
