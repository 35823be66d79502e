"""The World: every state's attributes and the relations between states, as plain data.

A :class:`World` holds numpy arrays (one value per state, or one per pair) and a
networkx treaty graph; what follows from them (capacity groups, legal and cultural
distance, the treaty matrix) is derived once when it is built. Building one, from
scenario parameters or a data file, is :mod:`sim.world`; reforms and stages read
and change it during a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from sim.scenario import LEGAL_FAMILIES

CAPACITY_GROUPS = ("low", "middle", "high")


@dataclass
class World:
    """Everything about the states that does not change by itself during a run.

    Per-state arrays are indexed by state number; pair matrices are (n, n).
    """

    codes: list[str]
    legal_family: np.ndarray  # index into LEGAL_FAMILIES
    language: np.ndarray
    population: np.ndarray  # relative to the median state (drives case volume)
    economic_size: np.ndarray  # GDP relative to the median state (budgets, gravity)
    openness: np.ndarray  # multiplier on being where evidence and suspects are (hubs)
    culture: np.ndarray  # organisational culture on a 0-1 scale (misunderstandings)
    rights_standard: np.ndarray  # 0-1: human-rights and fair-trial protections
    capacity: np.ndarray  # budget units
    technology: np.ndarray  # 0-1
    skill: np.ndarray  # 0-1
    sovereignty: np.ndarray  # 0-1
    death_penalty: np.ndarray  # bool
    data_protection: np.ndarray  # 0-1
    mr_bloc: np.ndarray  # bool: member of the mutual-recognition bloc
    alliance: np.ndarray  # bool: member of the intelligence alliance
    convention: np.ndarray  # bool: party to the multilateral MLA convention
    nsc: np.ndarray  # bool: has a national security court
    interpol_member: np.ndarray  # bool
    threat_level: np.ndarray  # multiplier on case arrivals
    platform: np.ndarray  # bool: connected to the secure sharing platform
    contact_point: np.ndarray  # bool: has a 24/7 point of contact
    confidentiality: np.ndarray  # 0-1: confidentiality agreements and legal protections
    treaties: nx.Graph  # edge = bilateral MLA/extradition treaty
    initial_trust: np.ndarray  # (n, n)
    relations: np.ndarray  # (n, n) symmetric, 0-1
    family_distance: np.ndarray  # (families, families): world.legal_family_distance
    capacity_group: np.ndarray = field(init=False)
    legal_distance: np.ndarray = field(init=False)
    different_language: np.ndarray = field(init=False)
    cultural_distance: np.ndarray = field(init=False)  # (n, n); liaison officers reduce it
    treaty_matrix: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        # Groups are fixed at the start so that equity outcomes compare the same states
        # even when capacity building moves them.
        self.capacity_group = capacity_groups(self.capacity)
        family = self.legal_family
        self.legal_distance = self.family_distance[np.ix_(family, family)]
        self.different_language = (self.language[:, None] != self.language[None, :]).astype(float)
        self.cultural_distance = np.abs(self.culture[:, None] - self.culture[None, :]).clip(0, 1)
        self.treaty_matrix = np.zeros((self.n_states, self.n_states), dtype=bool)
        for a, b in self.treaties.edges:
            self.treaty_matrix[a, b] = self.treaty_matrix[b, a] = True

    @property
    def n_states(self) -> int:
        """Number of states."""
        return len(self.codes)

    def add_treaty(self, a: int, b: int, instrument: str = "bilateral") -> None:
        """Add a bilateral treaty between states ``a`` and ``b``."""
        self.treaties.add_edge(a, b, instrument=instrument)
        self.treaty_matrix[a, b] = self.treaty_matrix[b, a] = True

    def states_frame(self) -> pd.DataFrame:
        """One row per state with its attributes, readable labels."""
        return pd.DataFrame(
            {
                "state": self.codes,
                "legal_family": [LEGAL_FAMILIES[f] for f in self.legal_family],
                "language": self.language,
                "population": self.population,
                "economic_size": self.economic_size,
                "openness": self.openness,
                "culture": self.culture,
                "rights_standard": self.rights_standard,
                "capacity": self.capacity,
                "capacity_group": [CAPACITY_GROUPS[g] for g in self.capacity_group],
                "technology": self.technology,
                "sovereignty": self.sovereignty,
                "death_penalty": self.death_penalty,
                "mr_bloc": self.mr_bloc,
                "alliance": self.alliance,
                "convention": self.convention,
                "nsc": self.nsc,
                "threat_level": self.threat_level,
                "interpol_member": self.interpol_member,
                "platform": self.platform,
                "contact_point": self.contact_point,
                "confidentiality": self.confidentiality,
            }
        )


def capacity_groups(capacity: np.ndarray) -> np.ndarray:
    """Split states into low / middle / high capacity terciles (0, 1, 2)."""
    n = len(capacity)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    ranks = np.argsort(np.argsort(capacity, kind="stable"), kind="stable")
    return np.minimum((3 * ranks) // max(n, 1), 2).astype(np.int8)
