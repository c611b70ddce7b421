"""The domain records' derived properties: what "waiting", "current tier", "response time" and "open" mean."""

from __future__ import annotations

import dataclasses

import pytest

from wallboard.core.model import (
    NUISANCE_CATEGORIES,
    TIERS_IN_ORDER,
    Call,
    CallCategory,
    CallKindGroup,
    Escalation,
    Incident,
    Tier,
)

T0 = 1_795_327_200.0  # 2026-11-22 14:00 WITA


def test_tiers_rank_from_the_nearest_office_outwards() -> None:
    assert [t.rank for t in TIERS_IN_ORDER] == [0, 1, 2, 3]
    assert TIERS_IN_ORDER == (Tier.POLSEK, Tier.POLRES, Tier.POLDA, Tier.MABES)


@pytest.mark.parametrize(
    ("category", "group"),
    [
        (CallCategory.GENUINE, CallKindGroup.GENUINE),
        (CallCategory.PRANK, CallKindGroup.NUISANCE),
        (CallCategory.SILENT, CallKindGroup.NUISANCE),
        (CallCategory.INFORMATION, CallKindGroup.OTHER),
        (CallCategory.COMPLAINT, CallKindGroup.OTHER),
        (CallCategory.UNKNOWN, CallKindGroup.OTHER),
    ],
)
def test_every_category_belongs_to_one_volume_series(category: CallCategory, group: CallKindGroup) -> None:
    assert CallKindGroup.of(category) is group
    assert (category in NUISANCE_CATEGORIES) == (group is CallKindGroup.NUISANCE)


def test_a_ringing_call_escalates_then_is_answered() -> None:
    ringing = Call("c", 1, "64.71", T0, Tier.POLRES)
    assert ringing.is_waiting and ringing.current_tier is Tier.POLRES and ringing.answer_wait_s is None
    escalated = dataclasses.replace(ringing, rev=2, escalations=(Escalation(Tier.POLRES, Tier.POLDA, T0 + 10),))
    assert escalated.is_waiting and escalated.current_tier is Tier.POLDA
    answered = dataclasses.replace(escalated, rev=3, answered_at=T0 + 14.5, answered_tier=Tier.POLDA)
    assert not answered.is_waiting
    assert answered.answer_wait_s == 14.5
    abandoned = dataclasses.replace(escalated, rev=3, abandoned_at=T0 + 30)
    assert not abandoned.is_waiting and abandoned.answer_wait_s is None


def test_incident_response_time_is_first_on_scene_minus_call_received() -> None:
    incident = Incident("i", 1, "64.71", "c", T0, dispatched_at=T0 + 60)
    assert incident.response_time_s is None and incident.is_open
    on_scene = dataclasses.replace(incident, rev=2, on_scene_at=T0 + 420)
    assert on_scene.response_time_s == 420 and on_scene.is_open
    closed = dataclasses.replace(on_scene, rev=3, closed_at=T0 + 3000)
    assert not closed.is_open


def test_records_are_immutable() -> None:
    call = Call("c", 1, "64.71", T0, Tier.POLRES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.rev = 2  # type: ignore[misc]
