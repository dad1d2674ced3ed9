"""manifest.yml is a valid Slack app manifest and describes the bot we ship."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from handlers.listeners.purchase_command import COMMAND
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "schemas" / "slack-app-manifest.schema.json"


@pytest.fixture
def manifest() -> Any:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_matches_the_public_schema(manifest: Any) -> None:
    if not SCHEMA.exists():
        if IN_CI:
            pytest.fail(f"{SCHEMA} is missing")
        pytest.skip(f"{SCHEMA} is not here outside CI")
    jsonschema.validate(manifest, json.loads(SCHEMA.read_text()))


def test_manifest_describes_the_bot(manifest: Any) -> None:
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [COMMAND]
    assert commands[0]["description"]
    assert commands[0]["usage_hint"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == [
        "chat:write",
        "commands",
        "files:read",
        "files:write",
        "im:write",
        "usergroups:read",
    ]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert len(manifest["display_information"]["name"]) <= 35


def test_manifest_declares_the_message_shortcut_and_where_options_load(manifest: Any) -> None:
    from handlers.listeners.shortcut import CALLBACK_ID

    shortcuts = manifest["features"]["shortcuts"]
    assert [(s["callback_id"], s["type"], s["name"]) for s in shortcuts] == [
        (CALLBACK_ID, "message", "Record as purchase")
    ]
    assert 0 < len(shortcuts[0]["description"]) <= 150
    interactivity = manifest["settings"]["interactivity"]
    # Socket Mode delivers options requests over the socket; over HTTP they go where actions go.
    if manifest["settings"]["socket_mode_enabled"]:
        assert "message_menu_options_url" not in interactivity
    else:
        assert interactivity["message_menu_options_url"] == interactivity["request_url"]
