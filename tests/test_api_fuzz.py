"""The public JSON API fuzzed from its own OpenAPI document: no 5xx, responses match."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.test_routes_access import world_with_link  # noqa: F401 - the fixture


def test_api_never_fails_and_matches_its_schema(app, world_with_link):  # noqa: F811
    """Every operation, with generated parameters (a call whose results are published in
    the database): a documented answer every time, never a server error."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = sorted(o.label for o in operations)
    # Every documented operation but the schema's own document, which schemathesis skips.
    assert len(labels) == 7 and "GET /api/public-key" in labels, labels
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call()
            assert response.status_code < 500, (case.path, case.query, response.text[:300])
            case.validate_response(response)

        check()
