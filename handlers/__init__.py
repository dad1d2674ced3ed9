"""Everything Slack: listeners (handlers.listeners), Block Kit builders (handlers.blocks), use cases
(handlers.usecases) and the one module that calls Slack (handlers.slack_api).

`register(app, deps)` wires them into a Bolt app.
"""

from typing import Any

from handlers import listeners
from handlers.context import Deps, install


def register(app: Any, deps: Deps) -> None:
    install(app, deps)
    listeners.register(app)
