"""The REST contract (issue 15 point 8): Schemathesis sends generated requests to every operation
of the running gateway's and identity's OpenAPI documents, each request with the access tokens
of three tiers, and checks that no answer is a server error, that its status is one the operation
documents, and that its content type and body are the documented ones for that status.

The stack is the session's, shared with the other tests, so the fuzz must leave the demo state
as it found it. Operations that only read (GET) get inputs their schema allows and inputs it
forbids. Operations that change state get only inputs their schema forbids, which the server
must refuse before it acts: that the request schemas declare the constraints the server enforces
is itself part of the contract. Refused attempts still leave audit entries, which no other test
counts. Generation is derandomized with a fixed number of examples, so every run sends the same
requests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.transport.asgi import ASGI_TRANSPORT
from schemathesis.transport.requests import REQUESTS_TRANSPORT
from schemathesis.transport.wsgi import WSGI_TRANSPORT

from tests.support import System

pytestmark = pytest.mark.integration

Operation = APIOperation[Any, Any, Any, Any]

TIERS = ("quantri", "qthanoi", "canbo.noibai")
"""system-admin, local-admin of Hà Nội and self: the widest scope, one bounded to a subtree (whose
answers outside it are refusals or absences) and the narrowest. Another tier's answers take these
shapes too; which tier gets which is the authorization table's (test_authz_matrix.py)."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
EXAMPLES = 8

_SEARCH_CRITERIA = frozenset(
    {
        # Codes of a catalog, which is data: its schema can only say what a code looks like.
        *("rank", "rank_group", "post", "qualification", "political_theory", "ethnicity", "evaluation_level"),
        *("state_management", "foreign_language", "it_level"),
        *("religion", "home_province", "reward", "discipline", "contract_type"),
        # A step the catalog's ranks (or the rank named) have.
        "salary_step",
        # A unit, which must exist.
        "unit_id",
        # Relations between fields: a range's end before its start, a level without its year.
        *("born_to", "recruited_to", "age_max", "evaluation_year"),
    }
)
DATA_DEPENDENT = {
    ("GET", "/v1/persons"): _SEARCH_CRITERIA,
    # An export takes the search's criteria.
    ("GET", "/v1/persons/export"): _SEARCH_CRITERIA,
    # A period of the audit trail ending before it starts; a page after an entry the log does not
    # hold (identity's account log).
    ("GET", "/v1/audit"): frozenset({"occurred_to", "before_id"}),
    # A period ending before it starts or longer than a year (named by its end), a page token that
    # is not one the report gave.
    ("GET", "/v1/units/{unit_id}/late-entries"): frozenset({"to", "page_token"}),
    # A page token that is not one the listing gave.
    ("GET", "/v1/units/{unit_id}/decisions"): frozenset({"page_token"}),
    ("GET", "/v1/persons/{person_id}/decisions"): frozenset({"page_token"}),
    # A directory query of no letter or digit (only marks, spaces or punctuation).
    ("GET", "/v1/unit-directory"): frozenset({"q"}),
    # A unit with nobody the caller reads working there, or more than one batch prints.
    ("GET", "/v1/units/{unit_id}/resumes"): frozenset({"unit_id"}),
}
"""Query parameters whose validity OpenAPI cannot state, by operation: the operation refuses them with
422 naming them (issue 9 points 1, 2, 5, 6 and 8), however well formed. Any other 422 to well-formed data
still fails."""


RAW_BODIES = ("application/pdf",)
"""Request bodies sent as the file's bytes (a signed report's copy to check), which Schemathesis has
no serializer for: they go as the raw bytes generated for them, like `application/octet-stream`."""


@pytest.fixture
def raw_bodies() -> Iterator[None]:
    schemathesis.serializer.alias(list(RAW_BODIES), "application/octet-stream")
    yield
    for transport in (ASGI_TRANSPORT, REQUESTS_TRANSPORT, WSGI_TRANSPORT):
        transport.unregister_serializer(*RAW_BODIES)


MALFORMED_HTTP = "Invalid HTTP request received."
"""What uvicorn answers a request its HTTP parser refuses."""


def _refused_for_data(operation: Operation, response: Response) -> bool:
    """Whether a 422 names only parameters the operation's schema cannot judge."""
    judged = DATA_DEPENDENT.get((operation.method.upper(), operation.path))
    if judged is None or response.status_code != 422:
        return False
    faults = response.json()["detail"]
    return bool(faults) and all(fault["loc"][-1] in judged for fault in faults)


def _operations(base_url: str) -> list[Operation]:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]


def _modes(operation: Operation) -> list[GenerationMode]:
    """A read in both modes, a change in negative data; an operation that takes nothing at all (no
    parameter, body or token: the public notices) has no negative case, so it is read as it is."""
    takes = [*operation.path_parameters, *operation.headers, *operation.cookies, *operation.query, *operation.body]
    if not takes and not operation.definition.raw.get("security"):
        return [GenerationMode.POSITIVE]
    return list(GenerationMode) if operation.method.upper() == "GET" else [GenerationMode.NEGATIVE]


def _fuzz(operation: Operation, mode: GenerationMode, base_url: str, token: Callable[[str], str]) -> list[str]:
    """Sends each generated case with each tier's token at once, or once as it is when the case
    leaves its token out on purpose; the failures found, as Schemathesis words them. The tiers'
    requests go side by side, each thread on its own HTTP session: checking one answer here
    overlaps the services' work on the next."""
    failures: list[str] = []
    sessions = threading.local()
    opened: list[requests.Session] = []

    def check(case: Case[Operation], username: str | None) -> None:
        if not hasattr(sessions, "http"):
            sessions.http = requests.Session()
            opened.append(sessions.http)
        headers = {"Authorization": f"Bearer {token(username)}"} if username else None
        response = case.call(base_url=base_url, session=sessions.http, headers=headers, timeout=30)
        if response.status_code == 400 and response.text == MALFORMED_HTTP:
            # Refused by the HTTP server before any operation saw it (a generated header no client
            # may send, such as a Content-Length that is not a number): no document speaks for it.
            return
        checks = CHECKS
        if _refused_for_data(operation, response):
            checks = [c for c in CHECKS if c is not positive_data_acceptance]
        if response.status_code == 413:
            # Refused for its size before its content was judged (the body limit every operation
            # documents): a refusal all the same, which Schemathesis' list of them leaves out.
            checks = [c for c in checks if c is not negative_data_rejection]
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as failure:
            failures.append(f"{operation.label} ({mode.value} data, as {username or 'nobody'}):\n{failure}")

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Case[Operation]) -> None:
        if operation.schema.is_security_param_negated(case):
            check(case, None)
        else:
            list(tiers.map(lambda username: check(case, username), TIERS))

    try:
        with ThreadPoolExecutor(max_workers=len(TIERS)) as tiers:
            send()
    finally:
        for http in opened:
            http.close()
    return failures


@pytest.mark.parametrize("service", ["gateway", "identity"])
@pytest.mark.usefixtures("raw_bodies")
def test_every_operation_answers_as_its_document_says(system: System, service: str) -> None:
    base_url = system.gateway_url if service == "gateway" else system.services.identity_url
    issuing = threading.Lock()

    def token(username: str) -> str:
        with issuing:  # one password grant per login at a time, however many threads ask
            return system.token(username)

    def fuzzed(operation: Operation) -> list[str]:
        return [failure for mode in _modes(operation) for failure in _fuzz(operation, mode, base_url, token)]

    # One operation at a time: Hypothesis in two threads at once imported schemathesis' lazily
    # imported modules side by side, and pytest's assertion rewriting of them (a pytest plugin's
    # package) parsed two sources at once, which CPython 3.11's parser refuses with a SystemError.
    failures = [failure for operation in _operations(base_url) for failure in fuzzed(operation)]
    assert not failures, "\n\n".join(failures)
