"""`purchase-bot serve`: Socket Mode when SLACK_APP_TOKEN is set, else HTTP under gunicorn.

HTTP runs gunicorn with threaded workers (WEB_CONCURRENCY processes); each worker builds its own
engine and Bolt app after the fork, and nothing a request needs lives only in one process, so any
number of processes can share one database behind a load balancer.
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import create_app, make_app_engine
from bot.settings import Settings
from bot.web import create_wsgi_app, database_health
from db.errors import LedgerError
from db.migrate import is_current
from db.session import make_engine

LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"


class HttpServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        for key, value in {
            "bind": f"{s.host}:{s.port}",
            "workers": s.web_concurrency,
            "worker_class": "gthread",
            "threads": 32,
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": "-",
            "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
            "errorlog": "-",
            "loglevel": "info",
        }.items():
            self.cfg.set(key, value)

    def load(self) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
        engine = make_app_engine(self.settings)
        app = create_app(self.settings, engine, sweep=True)
        return create_wsgi_app(app, database_health(engine))


def serve(settings: Settings) -> None:
    settings.require_slack()
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    engine = make_engine(settings.database_url)
    if not is_current(engine):
        raise LedgerError("The database is not set up or is out of date; run `purchase-bot db upgrade` first")
    engine.dispose()
    if settings.slack_app_token is not None:
        app = create_app(settings, sweep=True)
        logging.getLogger("purchase_bot").info("starting in Socket Mode")
        SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()  # type: ignore[no-untyped-call]
    else:
        HttpServer(settings).run()
