"""The 110 domain: reference units, calls, incidents and patrol units.

Plain Python only: no Qt, no I/O. Every timestamp in the core is a POSIX time in seconds (UTC, ``float``);
conversion to and from RFC 3339 strings and to the board's local time zone happens at the edges
(``wallboard.core.timeutil`` and the feed). Floats keep the metrics engine fast enough to ingest hundreds of
thousands of records per second.

Records from the dispatch API are *snapshots* of an entity at a revision (``rev``): a call is sent again whenever it
changes (answered, escalated, categorised), an incident whenever a timestamp is filled in, a unit whenever it moves.
The newest revision wins; a duplicate or older revision is ignored. That rule makes late, repeated and out-of-order
delivery give the same state as an in-order stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Tier(StrEnum):
    """Where a 110 call can ring, from the nearest office outwards."""

    POLSEK = "polsek"
    POLRES = "polres"
    POLDA = "polda"
    MABES = "mabes"

    @property
    def rank(self) -> int:
        return _TIER_RANK[self]


_TIER_RANK = {Tier.POLSEK: 0, Tier.POLRES: 1, Tier.POLDA: 2, Tier.MABES: 3}
TIERS_IN_ORDER: tuple[Tier, ...] = (Tier.POLSEK, Tier.POLRES, Tier.POLDA, Tier.MABES)


class CallCategory(StrEnum):
    """What the call turned out to be, set by the call taker. ``UNKNOWN`` while it is still ringing."""

    GENUINE = "genuine"
    INFORMATION = "information"
    COMPLAINT = "complaint"
    PRANK = "prank"
    SILENT = "silent"
    UNKNOWN = "unknown"


#: Categories that count as "prank or silent" in the prank share.
NUISANCE_CATEGORIES = frozenset({CallCategory.PRANK, CallCategory.SILENT})


class CallKindGroup(StrEnum):
    """The three series the call-volume chart distinguishes."""

    GENUINE = "genuine"
    NUISANCE = "nuisance"  # prank or silent
    OTHER = "other"  # information, complaint, not yet categorised

    @staticmethod
    def of(category: CallCategory) -> CallKindGroup:
        if category is CallCategory.GENUINE:
            return CallKindGroup.GENUINE
        if category in NUISANCE_CATEGORIES:
            return CallKindGroup.NUISANCE
        return CallKindGroup.OTHER


class UnitKind(StrEnum):
    R2 = "R2"  # motorbike patrol
    R4 = "R4"  # car patrol


class UnitStatus(StrEnum):
    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RETURNING = "returning"
    OUT_OF_SERVICE = "out_of_service"


class Priority(IntEnum):
    """Incident priority: 1 is the most urgent."""

    P1 = 1
    P2 = 2
    P3 = 3


@dataclass(frozen=True, slots=True)
class Polda:
    """A regional police command (one per province)."""

    id: str  # e.g. "kaltim"
    name: str  # "Polda Kalimantan Timur"
    hq_city: str
    lat: float
    lon: float
    tz: str  # IANA zone, e.g. "Asia/Makassar"


@dataclass(frozen=True, slots=True)
class Polres:
    """A resort (regency/city) police command under a Polda; where 110 calls ring first."""

    id: str  # e.g. "64.71" (Kemendagri regency code) for Kaltim
    name: str  # "Polresta Balikpapan"
    polda_id: str
    lat: float
    lon: float
    tz: str
    town: str = ""


@dataclass(frozen=True, slots=True)
class Escalation:
    """The call was not answered within the answer threshold at ``from_tier`` and moved on."""

    from_tier: Tier
    to_tier: Tier
    at: float


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Call:
    """One 110 call, as of revision ``rev``."""

    id: str
    rev: int
    polres_id: str
    received_at: float
    first_tier: Tier
    escalations: tuple[Escalation, ...] = ()
    answered_at: float | None = None
    answered_tier: Tier | None = None
    abandoned_at: float | None = None
    category: CallCategory = CallCategory.UNKNOWN
    caller_number: str | None = None  # full number; mask it before showing (core.privacy)
    caller_location: GeoPoint | None = None

    @property
    def is_waiting(self) -> bool:
        """Still ringing somewhere: neither answered nor abandoned."""
        return self.answered_at is None and self.abandoned_at is None

    @property
    def current_tier(self) -> Tier:
        return self.escalations[-1].to_tier if self.escalations else self.first_tier

    @property
    def answer_wait_s(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.received_at


@dataclass(frozen=True, slots=True)
class Incident:
    """Work created from a genuine call. Response time = ``on_scene_at`` − ``call_received_at``."""

    id: str
    rev: int
    polres_id: str
    call_id: str | None
    call_received_at: float
    priority: Priority = Priority.P2
    kind: str = ""  # free text from the CAD ("kecelakaan lalu lintas", ...): never trusted as markup
    location: GeoPoint | None = None
    dispatched_at: float | None = None
    en_route_at: float | None = None
    on_scene_at: float | None = None  # first unit on scene (TKP)
    closed_at: float | None = None
    unit_ids: tuple[str, ...] = ()

    @property
    def response_time_s(self) -> float | None:
        return None if self.on_scene_at is None else self.on_scene_at - self.call_received_at

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True, slots=True)
class PositionFix:
    lat: float
    lon: float
    heading_deg: float | None
    speed_kmh: float | None
    at: float


@dataclass(frozen=True, slots=True)
class Unit:
    """A patrol unit (R2 motorbike or R4 car), as of revision ``rev``."""

    id: str
    rev: int
    callsign: str
    polres_id: str
    kind: UnitKind
    status: UnitStatus
    fix: PositionFix | None = None
    incident_id: str | None = None


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A call ringing right now, from the live-queue stream."""

    call_id: str
    polres_id: str
    tier: Tier
    received_at: float


@dataclass(frozen=True, slots=True)
class QueueState:
    """The live queue as the API reported it at ``as_of``."""

    as_of: float
    entries: tuple[QueueEntry, ...] = field(default=())
