"""The Bolt app factory: settings in, a wired app out. No globals, so tests build their own."""

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine

import handlers
from bot.settings import Settings
from db.clock import Clock
from db.session import database_url, make_engine, make_session_factory
from handlers.caches import ChartCache
from handlers.context import Deps
from handlers.slack_api import make_client
from handlers.usecases.announcements import Sweeper

log = logging.getLogger("purchase_bot")


def make_app_engine(settings: Settings) -> Engine:
    """The bot's engine: pooled, and on PostgreSQL with server-side limits so no request waits forever."""
    url = database_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        return make_engine(url)
    millis = int(settings.database_timeout * 1000)
    options = f"-c statement_timeout={millis} -c lock_timeout={millis} -c idle_in_transaction_session_timeout={millis * 3}"
    # TCP keepalives and a user timeout notice a peer that vanished without closing the connection.
    connect_args = {
        "options": options,
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": millis,
    }
    # LIFO: the connection used last is handed out first, so requests run on warm connections that
    # need no ping (db/session.py); the rarely used ones stay at the bottom, pinged when next taken.
    return make_engine(url, pool_size=10, max_overflow=10, pool_use_lifo=True, connect_args=connect_args)


def create_app(
    settings: Settings, engine: Engine | None = None, *, sweep: bool = False, clock: Clock | None = None
) -> App:
    """The wired app; with `sweep` (a serving process) it also sends held-over announcements."""
    settings.require_slack()
    assert settings.slack_bot_token is not None
    engine = engine or make_app_engine(settings)
    sessions = make_session_factory(engine)
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    app = App(
        client=make_client(settings.slack_bot_token.get_secret_value(), str(settings.slack_api_url)),
        signing_secret=signing_secret or "socket-mode",
        request_verification_enabled=signing_secret is not None,
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="bolt"),
        logger=logging.getLogger("purchase_bot.bolt"),
    )
    deps = Deps(
        sessions=sessions,
        chart=ChartCache(sessions),
        executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="ledger"),
        clock=clock or settings.clock(),
        default_currency=settings.default_currency,
        channel=settings.purchase_channel,
        db_deadline=settings.database_timeout,
        approval_thresholds=dict(settings.thresholds),
        approvers=tuple(settings.approvers),
        receipt_thresholds=dict(settings.receipt_required_above),
        max_document_bytes=settings.max_document_bytes,
        fetch_deadline=settings.document_fetch_seconds,
        max_future_days=settings.max_future_days,
        base_currency=settings.base_currency,
        allowed_users=tuple(settings.purchase_allowed_users) if settings.purchase_allowed_users else None,
        payers=tuple(settings.payers) if settings.payers else None,
        bills_due_notice_days=settings.bills_due_notice_days,
        announce_hold=dt.timedelta(seconds=settings.announce_hold_seconds),
    )
    handlers.register(app, deps)

    @app.error
    def on_error(error: Exception, body: dict[str, Any], logger: logging.Logger) -> None:
        kind = body.get("type") or body.get("command") or "request"
        logger.exception("unhandled error in %s listener: %s", kind, type(error).__name__, exc_info=error)

    if sweep and deps.channel is not None:
        Sweeper(deps, app.client, settings.announce_sweep_seconds).start()
    return app
