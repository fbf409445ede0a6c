"""The claim registry: every theorem of every topic as a set of checkable claims.

A claim is a statement from a paper together with the pure function(s) that compute its bound from
problem constants. The registry is how ``boundlab list`` and ``boundlab verify`` find claims; the check
that verifies a claim lives in ``sims/<topic>.py`` and is registered there under the same id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Claim", "ClaimKind", "claims", "get_claim", "register", "topics"]


class ClaimKind(StrEnum):
    """How a claim is stated, which fixes how it is checked.

    - ``PER_RUN``: an inequality that holds on every realisation; asserted on every seed.
    - ``EXPECTATION``: an inequality between expectations; asserted on the seed mean with a one-sided
      confidence margin.
    - ``RATE``: an order of growth without confirmed constants; checked as a fitted log-log slope or a
      bounded ratio across a sweep.
    - ``IDENTITY``: two computations that must agree (up to floating point).
    - ``STRUCTURAL``: a qualitative property of the algorithm (monotonicity, feasibility, ...).
    """

    PER_RUN = "per-run bound"
    EXPECTATION = "bound in expectation"
    RATE = "rate"
    IDENTITY = "identity"
    STRUCTURAL = "structural property"


@dataclass(frozen=True)
class Claim:
    """One checkable statement of a theorem.

    Parameters
    ----------
    id
        Dotted identifier ``<topic>.<name>``, e.g. ``omd.convex_regret``.
    statement
        One line, in Unicode math.
    source
        Paper and theorem number (or "derived"/"reconstructed" with the module holding the derivation).
    kind
        How the claim is stated; see :class:`ClaimKind`.
    bounds
        The pure functions of problem constants that compute the bound(s) the claim asserts.
    reconstructed
        True where the constant is not confirmed by the paper and was derived in ``theory/<topic>.py``.
    known_failure
        Why the claim, as stated at the paper's own constants, fails in simulation (with the evidence and
        what holds instead), or None. ``boundlab verify`` reports such a failure as documented; a documented
        failure that starts to hold is flagged as unexpected, so the record stays true.
    """

    id: str
    statement: str
    source: str
    kind: ClaimKind
    bounds: tuple[Callable[..., float], ...] = field(default=(), compare=False)
    reconstructed: bool = False
    known_failure: str | None = None

    def __post_init__(self) -> None:
        if "." not in self.id:
            raise ValueError(f"claim id must be '<topic>.<name>', got {self.id!r}")
        if not isinstance(self.kind, ClaimKind):
            raise TypeError(f"claim kind must be a ClaimKind, got {type(self.kind).__name__}")

    @property
    def topic(self) -> str:
        """The topic, i.e. the part of the id before the first dot."""
        return self.id.split(".", 1)[0]


_REGISTRY: dict[str, Claim] = {}


def register(*new_claims: Claim) -> None:
    """Add claims to the registry; an id may be registered only once."""
    for claim in new_claims:
        if claim.id in _REGISTRY and _REGISTRY[claim.id] != claim:
            raise ValueError(f"claim {claim.id!r} is already registered")
        _REGISTRY[claim.id] = claim


def claims(topic: str | None = None) -> list[Claim]:
    """All registered claims, in registration order, optionally of one topic."""
    _load_topics()
    return [c for c in _REGISTRY.values() if topic is None or c.topic == topic]


def get_claim(claim_id: str) -> Claim:
    """The claim with this id; ``KeyError`` naming the known ids otherwise."""
    _load_topics()
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown claim {claim_id!r}; known claims: {known}") from None


def topics() -> list[str]:
    """The topics that have at least one claim, in registration order."""
    return list(dict.fromkeys(c.topic for c in claims()))


#: Topic modules of ``theory`` whose import registers their claims.
TOPIC_MODULES: tuple[str, ...] = ("omd", "alf_lb", "ef21", "sor_bandit", "matrix_completion", "convex_relu")


def _load_topics() -> None:
    import importlib

    for name in TOPIC_MODULES:
        importlib.import_module(f"theory.{name}")
