"""Short-lived copies kept by one process: the chart of accounts and user groups, each with a
time to live, and the debouncer for App Home refreshes. Only caches: no process needs another's copy."""

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from db.accounts import list_accounts


@dataclass(frozen=True)
class AccountOption:
    code: str
    name: str
    type: str


_WORD = re.compile(r"\w+")


class ChartIndex:
    """The chart prepared for type-ahead: each account's code and the words of its name, folded."""

    def __init__(self, accounts: Sequence[AccountOption]) -> None:
        self.accounts = tuple(accounts)
        self._keys = [(a.code.casefold(), _WORD.findall(a.name.casefold())) for a in self.accounts]

    def search(self, text: str, limit: int = 100) -> list[AccountOption]:
        """The accounts matching every typed word, case-insensitive: a word matches when the code
        starts with it or a word of the name does (`6100`, `office sup`, `6100 office`). The exact
        code comes first, then other code matches, then name matches, each in chart order."""
        tokens = text.casefold().split()
        if not tokens:
            return list(self.accounts[:limit])
        ranked: list[tuple[int, int]] = []
        for position, (code, words) in enumerate(self._keys):
            rank = _rank(tokens, code, words)
            if rank is not None:
                ranked.append((rank, position))
        ranked.sort()
        return [self.accounts[position] for _, position in ranked[:limit]]


def _rank(tokens: list[str], code: str, words: list[str]) -> int | None:
    """0: the code itself was typed; 1: a code prefix was; 2: name words only; None: no match."""
    rank = 2
    for token in tokens:
        if code.startswith(token):
            rank = min(rank, 0 if code == token else 1)
            continue
        parts = _WORD.findall(token)
        if not parts or not all(any(w.startswith(p) for w in words) for p in parts):
            return None
    return rank


class ChartCache:
    """The chart of accounts, re-read at most every `ttl` seconds.

    A modal must open within Slack's 3-second trigger window even when the database is slow;
    a stale chart (last good copy) is better than no modal. Only a cache: no process needs
    another's copy.
    """

    def __init__(self, sessions: sessionmaker[Session], ttl: float = 60.0) -> None:
        self._sessions, self._ttl = sessions, ttl
        self._lock = threading.Lock()
        self._value: list[AccountOption] | None = None
        self._index: ChartIndex | None = None
        self._loaded_at = 0.0

    def get(self) -> list[AccountOption]:
        with self._lock:
            if self._value is not None and time.monotonic() - self._loaded_at < self._ttl:
                return self._value
        try:
            with self._sessions.begin() as session:
                value = [AccountOption(a.code, a.name, a.type.value) for a in list_accounts(session)]
        except Exception:
            if self._value is not None:
                return self._value
            raise
        index = ChartIndex(value)
        with self._lock:
            self._value, self._index, self._loaded_at = value, index, time.monotonic()
        return value

    def search(self, text: str, limit: int = 100) -> list[AccountOption]:
        """Type-ahead over the cached chart (see `ChartIndex.search`); the database is read only
        when the cache is stale, as for `get`."""
        value = self.get()
        with self._lock:
            index = self._index
        return (index or ChartIndex(value)).search(text, limit)


class GroupCache:
    """Members of Slack user groups (S...), re-read at most every `ttl` seconds.

    `load` asks Slack (usergroups.users.list); when Slack fails, the last good copy is used.
    """

    def __init__(self, ttl: float = 60.0) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    def members(self, group: str, load: Callable[[str], frozenset[str]]) -> frozenset[str]:
        with self._lock:
            cached = self._members.get(group)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        try:
            value = load(group)
        except Exception:
            if cached is not None:
                return cached[1]
            raise
        with self._lock:
            self._members[group] = (time.monotonic(), value)
        return value


class Debouncer:
    """Runs `fn(keys)` once, `delay` seconds after the first of a burst of `schedule` calls.

    The App Home refresh goes through it: a burst of changes for one user publishes once, and the
    refresh never competes with the posting that caused it for a database connection.
    """

    def __init__(self, delay: float = 1.0) -> None:
        self._delay = delay
        self._lock = threading.Lock()
        self._pending: dict[str, Callable[[], object]] = {}

    def schedule(self, key: str, fn: Callable[[], object]) -> None:
        with self._lock:
            if key in self._pending:
                return
            self._pending[key] = fn
        timer = threading.Timer(self._delay, self._run, args=(key,))
        timer.daemon = True
        timer.start()

    def _run(self, key: str) -> None:
        with self._lock:
            fn = self._pending.pop(key, None)
        if fn is not None:
            fn()
