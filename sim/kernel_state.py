"""What the compiled request pipeline reads and writes, named.

The kernels of :mod:`sim.kernel_lifecycle` and :mod:`sim.kernel_stages` take one
argument, a :class:`~sim.kernel_struct.KernelState`: a numba struct passed by
reference that holds the model's arrays (the ledger's columns, the case book's, the
world's and the model's tables, trust, the agencies), the scenario's numbers as one
float array read at the ``P_`` offsets below, the model's counters as one int array
(``K_`` offsets), and the buffers of what the call leaves for Python to file
(:class:`Outbox`).

The model passes its arrays to :func:`sim.kernel_struct.new_state` in the order of the
named tuples below (:mod:`sim.lifecycle`); a field's name is its tuple's prefix and
the tuple's field (``case_status``, ``trust_value``, ``pool_ids``; the ledger's, the
world's, the agencies' and the outbox's have no prefix). One struct, not the tuples
themselves, because numba compiles every function that takes sixty arrays in about a
second, and one that takes a struct in a tenth of that.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

LedgerArrays = namedtuple(
    "LedgerArrays",
    [
        "case", "kind", "requesting_state", "requested_state", "instrument", "channel",
        "security_case", "coercive", "consent", "national", "severity",
        "political_sensitivity", "stage", "outcome", "refusal_ground",
        "clarification_rounds", "queue_agency", "t_issued", "t_received", "t_decided",
        "t_judicial", "t_executed", "t_closed", "t_created", "n_rows",
    ],
)  # fmt: skip

CaseArrays = namedtuple(
    "CaseArrays",
    [
        "origin", "type", "needed", "received", "status", "first", "count",
        "extra_first", "extra_next", "extra_request", "severity", "political_sensitivity",
        "deadline", "extra_last", "extras_used", "t_created", "t_closed", "team_slot",
        "n_rows",
    ],
)  # fmt: skip

# The world's attributes the kernels read under their own names (``sim.world_state``).
WORLD_FIELDS = (
    "legal_distance",
    "different_language",
    "cultural_distance",
    "sovereignty",
    "relations",
    "death_penalty",
    "rights_standard",
    "data_protection",
    "confidentiality",
    "technology",
    "interpol_member",
)

# The world's attributes and the model's tables the stages read.
WorldArrays = namedtuple(
    "WorldArrays",
    [
        *WORLD_FIELDS,
        "familiarity",
        "listed_type",
        "is_civil",
        "nsc_of",
        "ca_of",
        "court_of",
        "le_of",
        "channel_days",
        "latest_case",
        "procedure_clarity",
        "court_transparency",
        "court_safeguards",
        "op_participant",
        "op_targeted",
    ],
)

# What drafting reads and writes (sim.kernel_drafting): the world's agreements and
# links, the policy's per-state settings, which case types are security cases, the
# requests sent so far between each ordered pair of states, and case generation's
# numbers (sim.kernel_cases.case_parameters; extraditions after an arrest draw them).
DraftingArrays = namedtuple(
    "DraftingArrays",
    [
        "mr_bloc",
        "treaty_matrix",
        "convention",
        "platform",
        "contact_point",
        "drafting_skill",
        "urgent_threshold",
        "formal_channel",
        "security_type",
        "traffic",
        "case_numbers",
    ],
)

TrustArrays = namedtuple(
    "TrustArrays", ["value", "last", "decay", "baseline", "own_decay", "sums", "keep"]
)
# TrustArrays.sums: the running sums behind TrustNetwork.mean(), the sum of the
# off-diagonal baselines as of their last rebuild, and the decay whose relaxed shares
# TrustArrays.keep holds by whole days elapsed (sim.kernel_trust.trust_get). That decay
# has its own slot, apart from the common decay the sums use: the kept shares are of
# the decay they were computed for, whatever may change the common one.
T_GAP, T_DAY, T_VALID, T_DECAY0, T_BASE, T_KEEP_FOR = range(6)
T_SLOTS = T_KEEP_FOR + 1
#: Whole days elapsed whose relaxed share trust keeps (longer spans are computed).
KEEP_DAYS = 4096

AgencyArrays = namedtuple(
    "AgencyArrays",
    ["waiting", "arrived", "role", "skill", "nsc", "capacity", "credit", "effort"],
)

# A calendar (sim.kernel_calendar): ids in chunks by day, their links, and its counters
# (C_ offsets there). In the struct: requests in a timed stage (``cal_``), open cases by
# their deadline (``deadline_``), intelligence by its delivery (``delivery_``), notices
# by the end of their review (``review_``) and searches by the day they end (``search_``).
CalendarArrays = namedtuple("CalendarArrays", ["ids", "links", "meta", "count"])

# Intelligence shared (sim.intelligence): the share record's columns the delivery reads
# and writes, its numbers (S_ offsets) and its running counts (S_LEAKS and on).
ShareArrays = namedtuple(
    "ShareArrays",
    ["case", "sharer", "recipient", "platform", "t_delivered", "leaked", "numbers", "counts"]
    + ["item", "t_shared", "n_rows"],
)
S_LEAK_BASE, S_PLATFORM_LEAK, S_LEAK_CUT, S_PREVENTION, S_TRUST_LOSS, S_TRUST_GAIN = range(6)
S_LEAD_DAYS, S_SECURITY_WEIGHT = 6, 7
S_LEAKS, S_PREVENTED, S_HELPED, S_ITEMS = range(4)  # S_ITEMS: items produced

# INTERPOL's record (sim.interpol): the columns its kernels read and write, and the
# reviews' numbers (sim.kernel_interpol.review_notices).
NoticeArrays = namedtuple(
    "NoticeArrays",
    ["case", "requesting", "located_in", "diffusion", "status", "t_reviewed", "t_located"]
    + ["numbers", "t_requested", "n_rows"],
)

# The joint teams at work (sim.teams.TeamFormation): each slot's case (-1: free, -2 - k:
# its case ended and its members have their capacity back, Python still to dissolve
# it as the call's k-th), the law-enforcement capacity each member lends a day, the
# number of members and the member states (row by slot, the originating state first).
# ``formed``: the slots of the teams the last case generation formed, in order, their
# number in ``n_formed`` (an array of one), for Python to make their agents; ``ended``:
# the slots of the teams a call ended, k-th at k, for Python to dissolve in that order.
TeamArrays = namedtuple(
    "TeamArrays", ["case", "cost", "size", "members", "formed", "n_formed", "ended"]
)

Outbox = namedtuple(
    "Outbox",
    [
        "filed",
        "today",
        "taken_ids",
        "taken_agency",
        "ended_cases",
        "ended_segments",
    ],
)
# Outbox.filed: fills of its buffers (O_TODAY: requests filed for today; O_TAKEN:
# requests agencies took from their queues today, in service order).
# O_GIVEN: segments of ended cases whose teams' members already have their capacity back;
# O_TEAMS_ENDED: the teams they were (marked -2 - k in their slots and listed in
# team_ended, for Python to remove).
O_TODAY, O_TAKEN, O_CLOSED, O_SEGMENTS, O_GIVEN, O_TEAMS_ENDED = range(6)
O_SLOTS = O_TEAMS_ENDED + 1

# Every agency's waiting requests in one pool (sim.queues.QueuePool), sorted by
# (agency and deadline class, priority, arrival sequence), and the arrivals not yet
# merged into it; arrays of the ledger's capacity, filled to the counts below.
PoolArrays = namedtuple(
    "PoolArrays",
    [
        "group",
        "priority",
        "sequence",
        "ids",
        "agency",
        "new_group",
        "new_priority",
        "new_sequence",
        "new_ids",
        "new_agency",
        "counts",
    ],
)
# PoolArrays.counts: entries, arrivals, the next arrival's sequence number, and whether
# some entries closed while waiting (dropped at the next service).
Q_SIZE, Q_NEW, Q_SEQUENCE, Q_DIRTY = range(4)

# What the day's record (sim.kernel_day.record_series) writes and reads besides the
# counters: the daily series (a row each), the rows of the series it writes itself
# (``layout``) and of those that copy a counter (``counted``, the counters in ``slots``),
# each agency's waiting requests by day (a row a day), each agency's capacity-days in
# the window, and the trust pairs with their own decay (flat indices, as of the last
# rebuild of trust's sums).
SeriesArrays = namedtuple(
    "SeriesArrays",
    ["rows", "layout", "counted", "slots", "backlog", "capacity_days", "trust_own"],
)

# The model's counters (K): outcomes by Outcome code - 1, then the rest.
K_EXECUTED, K_REFUSED, K_LAPSED, K_WITHDRAWN, K_ISSUED, K_CLARIFICATION_ROUNDS, K_OPEN = range(7)
K_BACKLOG = 7  # + role code
K_UNLOCATED = K_BACKLOG + 3  # persons sought whose whereabouts were unknown
K_SLOTS = K_UNLOCATED + 1
OUTCOME_COUNTERS = ("executed", "refused", "lapsed", "withdrawn", "issued")

# The scenario's numbers (P), by offset: (section, field) in the scenario.
PARAMETERS = (
    ("drafting", "noise_sigma"),
    ("trust", "loss_on_clarification"),
    ("trust", "loss_on_refusal"),
    ("trust", "loss_on_lapse"),
    ("trust", "gain_on_success"),
    ("trust", "expected_response_days"),
    ("trust", "timeliness_weight"),
    ("review", "max_clarification_rounds"),
    ("review", "clarification_base"),
    ("review", "clarification_per_legal_distance"),
    ("review", "clarification_days"),
    ("communication", "language_misunderstanding"),
    ("communication", "organisational_distance_weight"),
    ("communication", "familiarity_effect"),
    ("mutual_recognition", "standard_form_clarity"),
    ("mutual_recognition", "nationality_residence_refusal"),
    ("mutual_recognition", "surrender_deadline_consent_days"),
    ("mutual_recognition", "surrender_deadline_days"),
    ("mutual_recognition", "decision_deadline_days"),
    ("mutual_recognition", "execution_deadline_days"),
    ("review", "rights_gap_tolerance"),
    ("review", "nationality_bar"),
    ("review", "dual_criminality_base"),
    ("review", "political_offence_base"),
    ("review", "ne_bis_in_idem_base"),
    ("review", "human_rights_base"),
    ("review", "fair_trial_base"),
    ("review", "in_absentia_base"),
    ("review", "proportionality_base"),
    ("review", "data_protection_base"),
    ("review", "sovereignty_refusal"),
    ("review", "sovereignty_delay"),
    ("review", "sovereignty_delay_days"),
    ("judicial", "human_rights_refusal"),
    ("agencies", "skill_speed_effect"),
    ("review", "service_days"),
    ("mutual_recognition", "review_days"),
    ("judicial", "extradition_days"),
    ("judicial", "coercive_order_days"),
    ("judicial", "consent_factor"),
    ("judicial", "nsc_speed_factor"),
    ("judicial", "nsc_noise_factor"),
    ("mutual_recognition", "hearing_days"),
    ("mutual_recognition", "surrender_days"),
    ("execution", "surrender_days"),
    ("execution", "evidence_days"),
    ("drafting", "base_days"),
    ("drafting", "language_days"),
    ("drafting", "legal_distance_days"),
    ("drafting", "skill_effect"),
    ("jit", "formation_days"),
    ("jit", "exchange_days"),
)
(
    P_NOISE_SIGMA,
    P_LOSS_ON_CLARIFICATION,
    P_LOSS_ON_REFUSAL,
    P_LOSS_ON_LAPSE,
    P_GAIN_ON_SUCCESS,
    P_EXPECTED_RESPONSE,
    P_TIMELINESS_WEIGHT,
    P_MAX_CLARIFICATION_ROUNDS,
    P_CLARIFICATION_BASE,
    P_CLARIFICATION_PER_LEGAL_DISTANCE,
    P_CLARIFICATION_DAYS,
    P_LANGUAGE_MISUNDERSTANDING,
    P_ORGANISATIONAL_DISTANCE_WEIGHT,
    P_FAMILIARITY_EFFECT,
    P_STANDARD_FORM_CLARITY,
    P_NATIONALITY_RESIDENCE_REFUSAL,
    P_SURRENDER_DEADLINE_CONSENT,
    P_SURRENDER_DEADLINE,
    P_DECISION_DEADLINE,
    P_EXECUTION_DEADLINE,
    P_RIGHTS_GAP_TOLERANCE,
    P_NATIONALITY_BAR,
    P_DUAL_CRIMINALITY_BASE,
    P_POLITICAL_OFFENCE_BASE,
    P_NE_BIS_IN_IDEM_BASE,
    P_HUMAN_RIGHTS_BASE,
    P_FAIR_TRIAL_BASE,
    P_IN_ABSENTIA_BASE,
    P_PROPORTIONALITY_BASE,
    P_DATA_PROTECTION_BASE,
    P_SOVEREIGNTY_REFUSAL,
    P_SOVEREIGNTY_DELAY,
    P_SOVEREIGNTY_DELAY_DAYS,
    P_HUMAN_RIGHTS_REFUSAL,
    P_SKILL_SPEED_EFFECT,
    P_SERVICE_DAYS,
    P_MR_REVIEW_DAYS,
    P_EXTRADITION_DAYS,
    P_COERCIVE_ORDER_DAYS,
    P_CONSENT_FACTOR,
    P_NSC_SPEED_FACTOR,
    P_NSC_NOISE_FACTOR,
    P_HEARING_DAYS,
    P_MR_SURRENDER_DAYS,
    P_SURRENDER_DAYS,
    P_EVIDENCE_DAYS,
    P_DRAFTING_BASE_DAYS,
    P_DRAFTING_LANGUAGE_DAYS,
    P_DRAFTING_LEGAL_DISTANCE_DAYS,
    P_DRAFTING_SKILL_EFFECT,
    P_TEAM_FORMATION_DAYS,
    P_TEAM_EXCHANGE_DAYS,
) = range(len(PARAMETERS))
# Set by the model, not read from a section.
P_DISCIPLINE = len(PARAMETERS)  # queue discipline: 0 fifo, 1 severity, 2 reciprocity
P_WINDOW_START = P_DISCIPLINE + 1
P_OPERATION_ON = P_DISCIPLINE + 2  # a running operation puts its requests first
P_INTENSIFY = P_DISCIPLINE + 3  # a running INTERPOL operation searches itself today
# The mean of relations off the diagonal for the daily series, and whether it is
# current: Python clears it before days it does not trust (sim.lifecycle).
P_RELATIONS_MEAN = P_DISCIPLINE + 4
P_RELATIONS_KNOWN = P_DISCIPLINE + 5
P_SLOTS = P_DISCIPLINE + 6
DISCIPLINES = ("fifo", "severity", "reciprocity")


def parameters(config, window_start: int) -> np.ndarray:
    """The scenario's numbers the kernels read, at the offsets above."""
    values = np.zeros(P_SLOTS)
    for k, (section, name) in enumerate(PARAMETERS):
        values[k] = float(getattr(getattr(config, section), name))
    values[P_DISCIPLINE] = DISCIPLINES.index(config.agencies.queue_discipline)
    values[P_WINDOW_START] = window_start
    return values


# ---------------------------------------------------------------- the struct
GROUPS = (
    ("", LedgerArrays),
    ("case_", CaseArrays),
    ("", WorldArrays),
    ("", DraftingArrays),
    ("trust_", TrustArrays),
    ("", AgencyArrays),
    ("pool_", PoolArrays),
    ("cal_", CalendarArrays),
    ("deadline_", CalendarArrays),
    ("share_", ShareArrays),
    ("delivery_", CalendarArrays),
    ("notice_", NoticeArrays),
    ("review_", CalendarArrays),
    ("search_", CalendarArrays),
    ("team_", TeamArrays),
    ("series_", SeriesArrays),
    ("", Outbox),
)
FIELDS = [prefix + name for prefix, group in GROUPS for name in group._fields]
FIELDS += ["params", "counters"]
