"""Every route says what it returns, and the CLI and the API share one shape for citations and hits."""

from typing import Any

from api.app import create_app
from api.settings import Settings

NO_JSON_BODY = {
    ("post", "/api/auth/logout"),  # 204: no body
    ("get", "/api/photos/{sha256}"),  # the picture itself
}


def _operations() -> dict[tuple[str, str], dict[str, Any]]:
    spec = create_app(Settings(_env_file=None)).openapi()
    return {(method, path): op for path, ops in spec["paths"].items() for method, op in ops.items()}


def test_every_route_with_a_body_declares_its_response_model() -> None:
    operations = _operations()
    assert len(operations) >= 55

    def schema_of(op: dict[str, Any]) -> dict[str, Any]:
        ok = next(r for code, r in op["responses"].items() if code.startswith("2"))
        return next(iter(ok.get("content", {}).values()), {}).get("schema", {})

    undeclared = sorted(k for k, op in operations.items() if k not in NO_JSON_BODY and not schema_of(op))
    assert undeclared == []
    loose = sorted(k for k, op in operations.items()  # a bare dict says nothing about its fields
                   if schema_of(op).get("type") == "object" and "$ref" not in schema_of(op)
                   and not schema_of(op).get("properties"))
    assert loose == []


def test_the_cli_and_the_api_share_the_hit_and_citation_shapes() -> None:
    operations = _operations()
    search = operations[("get", "/api/kb/search")]["responses"]["200"]["content"]["application/json"]["schema"]
    chat = operations[("post", "/api/chat")]["responses"]["200"]["content"]["application/json"]["schema"]
    assert search["$ref"].endswith("/SearchOut") and chat["$ref"].endswith("/ChatOut")
    spec = create_app(Settings(_env_file=None)).openapi()["components"]["schemas"]
    assert spec["SearchOut"]["properties"]["hits"]["items"]["$ref"].endswith("/SearchHitOut")
    assert spec["ChatOut"]["properties"]["citations"]["items"]["$ref"].endswith("/CitationOut")
    assert spec["TurnOut"]["properties"]["citations"]["items"]["$ref"].endswith("/CitationOut")
