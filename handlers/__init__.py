"""Slack listeners, one module per feature; `register(app, deps)` wires them all."""

from typing import Any

from handlers import app_home, approvals, browse, permissions, purchase_command, purchase_modal, void
from handlers.deps import Deps, install


def register(app: Any, deps: Deps) -> None:
    install(app, deps)
    for module in (permissions, purchase_command, purchase_modal, approvals, void, browse, app_home):
        module.register(app)
