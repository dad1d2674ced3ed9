"""The App Home tab, published when its user opens it."""

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from handlers.context import deps_of
from handlers.usecases.home import publish_home


def register(app: Any) -> None:
    app.event("app_home_opened")(home_opened)


def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    publish_home(deps_of(context), client, str(event["user"]))
