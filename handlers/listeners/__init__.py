"""Bolt listeners, one module per feature, each with `register(app)`. They read the request,
call a use case and render its outcome; the guard runs first, as a global middleware."""

from typing import Any

from handlers.listeners import app_home, approvals, browse, guard, purchase_command, purchase_form, void

FEATURES = (guard, purchase_command, purchase_form, approvals, void, browse, app_home)


def register(app: Any) -> None:
    for feature in FEATURES:
        feature.register(app)
