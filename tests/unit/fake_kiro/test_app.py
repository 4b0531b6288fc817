"""Tests for tests/fake_kiro/app.py: factory, routing, error pages."""
from tests.fake_kiro import create_fake_app as lazy_factory
from tests.fake_kiro.app import create_fake_app
from tests.fake_kiro.state import FakeState


def test_factory_keeps_state_in_extensions():
    app = create_fake_app()
    assert isinstance(app.extensions["fake_kiro"], FakeState)
    assert lazy_factory is create_fake_app


def test_unknown_route_is_json_404(client):
    resp = client.get("/nope")
    assert resp.status_code == 404 and resp.get_json()["reason"] is None


def test_unknown_aws_json_target(client, account):
    resp = client.post("/", json={}, headers={"x-amz-target": "Foo.Bar",
                                              "authorization": f"Bearer {account['access_token']}"})
    assert resp.status_code == 400 and resp.get_json()["__type"] == "UnknownOperationException"


def test_models_over_aws_json(client, account):
    resp = client.post("/", json={"origin": "KIRO_CLI", "maxResults": 2},
                       headers={"x-amz-target": "AmazonCodeWhispererService.ListAvailableModels",
                                "authorization": f"Bearer {account['access_token']}"})
    assert [m["modelId"] for m in resp.get_json()["models"]] == ["auto", "claude-sonnet-4"]
