"""All configuration, from the environment (or a .env file), validated once at start-up."""

from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from db.clock import Clock
from db.money import known_currencies
from db.schemas import DEFAULT_CURRENCY, parse_amount


class SettingsError(Exception):
    """Missing or malformed settings; the message has one line per setting, naming it."""


def _split_ids(value: object) -> object:
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str | None = None
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: AnyHttpUrl = AnyHttpUrl("https://slack.com/api/")
    purchase_channel: Annotated[str | None, Field(pattern=r"^[CG][A-Z0-9]{2,31}$")] = None
    host: str = "0.0.0.0"  # noqa: S104  (a server behind a load balancer listens on all interfaces)
    port: Annotated[int, Field(ge=1, le=65535)] = 3000
    web_concurrency: Annotated[int, Field(ge=1, le=64)] = 2
    # Longest a request may wait on PostgreSQL (statement and lock timeouts, and how long the bot
    # waits before telling the user the outcome is not known yet).
    database_timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    # A channel message not sent within ANNOUNCE_HOLD_SECONDS of its purchase (Slack failing, the
    # process gone) is sent by whichever process sweeps next; each sweeps every ANNOUNCE_SWEEP_SECONDS.
    announce_hold_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    announce_sweep_seconds: Annotated[float, Field(gt=0, le=3600)] = 15.0
    default_currency: str = DEFAULT_CURRENCY
    # BASE_CURRENCY: the currency every posting is also valued in (db/rates.py); unset, DEFAULT_CURRENCY.
    base_currency_setting: Annotated[str | None, Field(validation_alias="BASE_CURRENCY")] = None
    # The books' calendar: "today" and "this month" are the day and month in this IANA time zone.
    books_timezone: ZoneInfo = ZoneInfo("UTC")
    # APPROVAL_THRESHOLD: `"500"` -> {None: 500} (any currency); `"USD 500, EUR 450"` -> per currency.
    thresholds: Annotated[
        dict[str | None, Decimal], NoDecode, Field(validation_alias="APPROVAL_THRESHOLD")
    ] = {}
    approvers: Annotated[list[str], NoDecode] = []
    # RECEIPT_REQUIRED_ABOVE: like APPROVAL_THRESHOLD; above it a purchase needs a document.
    receipt_required_above: Annotated[dict[str | None, Decimal], NoDecode] = {}
    # The largest document (receipt, invoice) stored with a purchase, in MB of 1,000,000 bytes:
    # Slack's own limit for a file input is 10 MB.
    max_document_mb: Annotated[int, Field(ge=1, le=100)] = 10
    # How long a submission waits for its files to download from Slack before refusing them.
    document_fetch_seconds: Annotated[float, Field(gt=0, le=60)] = 8.0
    purchase_allowed_users: Annotated[list[str] | None, NoDecode] = None
    # How far ahead of the books' today a purchase may be dated, in days.
    max_future_days: Annotated[int, Field(ge=0, le=3660)] = 31
    # Who may record payments of bills (users and/or user groups); unset: the approvers.
    payers: Annotated[list[str] | None, NoDecode] = None
    # The daily notice lists bills due within this many days (and those overdue).
    bills_due_notice_days: Annotated[int, Field(ge=0, le=90)] = 3

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("books_timezone", mode="before")
    @classmethod
    def _zone(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return ZoneInfo(value.strip())
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"{value!r} is not an IANA time zone name such as UTC or Asia/Jakarta"
                ) from None
        return value

    @field_validator("default_currency", "base_currency_setting")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.upper() not in known_currencies():
            raise ValueError("must be a three-letter ISO currency code such as USD")
        return value.upper()

    @field_validator("approvers", "purchase_allowed_users", "payers", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return _split_ids(value)

    @field_validator("approvers", "purchase_allowed_users", "payers")
    @classmethod
    def _check_ids(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            if not (item.startswith(("U", "W", "S")) and item[1:].isalnum() and item.isupper()):
                raise ValueError(f"{item!r} is not a Slack user ID (U...) or user group ID (S...)")
        return value

    @field_validator("thresholds", "receipt_required_above", mode="before")
    @classmethod
    def _thresholds(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        out: dict[str | None, Decimal] = {}
        for part in [part.strip() for part in value.split(",") if part.strip()]:
            currency, _, amount = part.rpartition(" ")
            if currency and currency.upper() not in known_currencies():
                raise ValueError(f"{currency!r} is not a currency code")
            out[currency.upper() or None] = parse_amount(amount)
        return out

    @property
    def base_currency(self) -> str:
        return self.base_currency_setting or self.default_currency

    @property
    def max_document_bytes(self) -> int:
        return self.max_document_mb * 1_000_000

    def clock(self) -> Clock:
        """The books' clock: real time, days in BOOKS_TIMEZONE."""
        return Clock(zone=self.books_timezone)

    def require_slack(self) -> None:
        """`serve` needs the bot token, and the signing secret unless it runs in Socket Mode."""
        if self.slack_bot_token is None:
            raise SettingsError(
                "SLACK_BOT_TOKEN is not set; it is the bot token (xoxb-...) from the Slack app"
            )
        if self.slack_app_token is None and self.slack_signing_secret is None:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is not set; HTTP mode needs it (or set SLACK_APP_TOKEN for Socket Mode)"
            )


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    """One line per bad setting, `NAME: message`, so one start-up names everything to fix."""
    messages: dict[str, list[str]] = {}
    for error in exc.errors():
        name = str(error["loc"][0]).upper() if error["loc"] else "settings"
        messages.setdefault(name, []).append(error["msg"].removeprefix("Value error, "))
    return "\n".join(f"{name}: {'; '.join(found)}" for name, found in messages.items())
