"""A third-party API fuzzer against the simulator: Schemathesis generates requests from the OpenAPI document (valid
and invalid parameters, headers) and checks every answer against the same document. Bounded: a few dozen examples
per operation, so the whole file stays well under a minute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from wallboard.resources import resource_path
from wallboard.sim.server import SimServer

START = 1_795_300_000.0
TOKEN = "schemathesis-5b1e"  # the simulator requires it, as a real CAD does: the fuzzer also checks refusals
DOCUMENT = resource_path("openapi", "dispatch-api.yaml")
#: Documented operations only: methods the API does not serve (TRACE, PUT...) are the second test's business.
schema = schemathesis.openapi.from_path(
    DOCUMENT, config=schemathesis.Config.from_dict({"phases": {"coverage": {"unexpected-methods": []}}})
)
#: Everything Schemathesis tries by default, unexpected methods and invalid data included.
full_schema = schemathesis.openapi.from_path(DOCUMENT)
FUZZ = settings(
    max_examples=30,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples every run: a failure here is reproducible, never a flake
)


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    server = SimServer(region="kaltim", seed=7, speed=0, history_hours=2, start_time=START, token=TOKEN)
    server.start()
    server.advance(600)
    yield server.url
    server.stop()


@schema.parametrize()
@FUZZ
def test_no_server_error_and_every_answer_conforms(case: schemathesis.Case, sim_url: str) -> None:
    case.call_and_validate(
        base_url=sim_url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
                response_headers_conformance],
    )  # fmt: skip


@full_schema.parametrize()
@FUZZ
def test_every_default_check_of_schemathesis(case: schemathesis.Case, sim_url: str) -> None:
    # Every default check but one, against the token-requiring simulator with whatever Authorization the fuzzer
    # makes (its own bearer strings, none, spoiled ones: each must be refused with a documented 401 problem). An
    # unknown Polda id is a schema-valid string that the contract answers with a documented 400 ("unknown polda"),
    # which "positive data acceptance" would count as a rejected valid request. The first test fuzzes the parameters
    # with a valid token.
    case.call_and_validate(base_url=sim_url, excluded_checks=[positive_data_acceptance])
