"""Bolt listeners, one module per feature, each with `register(app)`. They read the request,
call a use case and render its outcome; the guard runs first, as a global middleware."""

from typing import Any

from handlers.listeners import (
    app_home,
    approvals,
    browse,
    documents,
    guard,
    options,
    payments,
    purchase_command,
    purchase_form,
    shortcut,
    void,
)

FEATURES = (
    guard,
    purchase_command,
    purchase_form,
    options,
    shortcut,
    approvals,
    void,
    browse,
    app_home,
    documents,
    payments,
)


def register(app: Any) -> None:
    for feature in FEATURES:
        feature.register(app)
