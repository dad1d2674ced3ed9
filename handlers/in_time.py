"""Answer a form submission within Slack's 3 seconds, whatever the database does, then follow up.

Every form that changes the books (the purchase form, reject, void, and those to come) goes
through `answer_in_time`, so each shows the same states:

- done: the work finished within `Deps.ack_budget`; its outcome is the acknowledgement itself
  (or inline errors on the fields, where the outcome has them);
- waiting ("Posting..."): it did not; the acknowledgement says so and the outcome replaces it
  with views.update as soon as it is known;
- not known yet: the database has not answered within `Deps.db_deadline`; the user is told, and
  the real outcome still follows when it answers;
- failed: the work raised; the user is told nothing changed.

When the modal is gone (closed meanwhile), the outcome goes to the user as a direct message.
Late follow-ups run on `Deps.slack_pool`, never on the ledger's threads.
"""

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from slack_bolt import Ack
from slack_sdk import WebClient

from handlers import slack_api
from handlers.context import Deps

log = logging.getLogger(__name__)

T = TypeVar("T")
View = dict[str, Any]


@dataclass(frozen=True)
class Screens(Generic[T]):
    """What the user sees in each state of one kind of submission."""

    waiting: View
    unknown: View
    shown: Callable[[T], View]
    failed: Callable[[Exception], View]
    # Errors to mark on the form's fields instead of replacing it ({block_id: message}); only
    # possible while the submission is still being acknowledged.
    inline_errors: Callable[[T], dict[str, str] | None] = lambda _: None
    # The outcome as a direct message (text, blocks), for when the modal is gone.
    message: Callable[[T], tuple[str, list[dict[str, Any]]] | None] = lambda _: None


# What runs once the user has the outcome (channel messages, Home tabs). It may return a newer
# outcome to show (a purchase whose channel could not be told gets a warning).
FollowUp = Callable[[T], T | None]


def answer_in_time(
    deps: Deps,
    ack: Ack,
    client: WebClient,
    *,
    view_id: str,
    user: str,
    work: Callable[[], T],
    screens: Screens[T],
    then: FollowUp[T] | None = None,
    pool: Executor | None = None,
) -> None:
    """`work` runs on `pool`: the ledger's by default; the Slack I/O pool for work that starts by
    talking to Slack (fetching a form's files), which then hands its database part to the ledger's."""
    future = (pool or deps.executor).submit(work)
    late = _Late(client, view_id, user, screens, then)
    try:
        outcome = future.result(timeout=deps.ack_budget)
    except FutureTimeout:
        ack(response_action="update", view=screens.waiting)
        try:
            outcome = future.result(timeout=deps.db_deadline)
        except FutureTimeout:
            late.show(screens.unknown, None)
            future.add_done_callback(lambda done: deps.slack_pool.submit(_logged, late.finish, done))
            return
        except Exception as exc:
            log.exception("a submission failed after it was acknowledged")
            late.show(screens.failed(exc), None)
            return
        late.deliver(outcome)
        return
    except Exception as exc:
        log.exception("a submission failed")
        ack(response_action="update", view=screens.failed(exc))
        return
    errors = screens.inline_errors(outcome)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack(response_action="update", view=screens.shown(outcome))
    late.follow_up(outcome)


def _logged(fn: Callable[["Future[T]"], None], future: "Future[T]") -> None:
    """Run a late follow-up on the Slack pool; nobody reads that pool's futures, so log here."""
    try:
        fn(future)
    except Exception:
        log.exception("a late follow-up failed")


@dataclass(frozen=True)
class _Late(Generic[T]):
    """Shows an outcome after the acknowledgement: in the modal, else as a direct message."""

    client: WebClient
    view_id: str
    user: str
    screens: Screens[T]
    then: FollowUp[T] | None

    def finish(self, future: "Future[T]") -> None:
        try:
            outcome = future.result()
        except Exception as exc:
            log.exception("a late submission failed")
            self.show(self.screens.failed(exc), None)
            return
        self.deliver(outcome)

    def deliver(self, outcome: T) -> None:
        self.show(self.screens.shown(outcome), self.screens.message(outcome))
        self.follow_up(outcome)

    def follow_up(self, outcome: T) -> None:
        if self.then is None:
            return
        newer = self.then(outcome)
        if newer is not None:
            self.show(self.screens.shown(newer), self.screens.message(newer))

    def show(self, view: View, message: tuple[str, list[dict[str, Any]]] | None) -> None:
        if slack_api.update_view(self.client, self.view_id, view).ok or message is None:
            return
        text, blocks = message
        if not slack_api.dm(self.client, self.user, text, blocks).ok:
            log.error("could not tell %s the outcome", self.user)
