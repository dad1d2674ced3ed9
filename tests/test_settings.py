"""Settings: the environment names are a contract; bad values stop start-up with one clear line each."""

from decimal import Decimal

import pytest

from bot.settings import Settings, SettingsError, load_settings

NAMES = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "PURCHASE_CHANNEL",
    "DATABASE_URL",
    "PORT",
    "APPROVAL_THRESHOLD",
    "APPROVERS",
    "PURCHASE_ALLOWED_USERS",
    "DEFAULT_CURRENCY",
    "BOOKS_TIMEZONE",
    "RECEIPT_REQUIRED_ABOVE",
    "MAX_DOCUMENT_MB",
    "DOCUMENT_FETCH_SECONDS",
    "PAYERS",
    "BILLS_DUE_NOTICE_DAYS",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))


def test_defaults() -> None:
    settings = load_settings()
    assert settings.port == 3000
    assert str(settings.slack_api_url) == "https://slack.com/api/"
    assert settings.database_url is None
    assert settings.thresholds == {}


def test_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "shh")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api/")
    monkeypatch.setenv("PURCHASE_CHANNEL", "C0123ABC")
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("APPROVAL_THRESHOLD", "USD 500, 1000")
    monkeypatch.setenv("APPROVERS", "U1AAA, S2BBB")
    settings = load_settings()
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-1"
    assert "xoxb-1" not in repr(settings)
    assert "shh" not in repr(settings)
    assert settings.port == 8080
    assert settings.thresholds == {"USD": Decimal(500), None: Decimal(1000)}
    assert settings.approvers == ["U1AAA", "S2BBB"]
    assert (settings.payers, settings.bills_due_notice_days) == (None, 3)  # the approvers pay; 3 days ahead
    settings.require_slack()


def test_dotenv_file_is_read(tmp_path: object) -> None:
    with open(".env", "w") as env:
        env.write("PURCHASE_CHANNEL=C999\nDEFAULT_CURRENCY=eur\n")
    settings = load_settings()
    assert settings.purchase_channel == "C999"
    assert settings.default_currency == "EUR"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user", "SLACK_BOT_TOKEN: must be a bot token starting with xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-1", "SLACK_APP_TOKEN: must be an app-level token starting with xapp-"),
        ("PORT", "eighty", "PORT:"),
        ("PORT", "0", "PORT:"),
        ("SLACK_API_URL", "not a url", "SLACK_API_URL:"),
        ("PURCHASE_CHANNEL", "#general", "PURCHASE_CHANNEL:"),
        ("DEFAULT_CURRENCY", "DOLLARS", "DEFAULT_CURRENCY: must be a three-letter ISO currency code"),
        ("APPROVAL_THRESHOLD", "USD lots", "APPROVAL_THRESHOLD: must be a plain amount like 1250"),
        ("APPROVAL_THRESHOLD", "BUCKS 500", "APPROVAL_THRESHOLD: 'BUCKS' is not a currency code"),
        ("APPROVAL_THRESHOLD", "USD 0", "APPROVAL_THRESHOLD: must be more than zero"),
        ("APPROVERS", "alice", "APPROVERS: 'alice' is not a Slack user ID"),
        ("ANNOUNCE_HOLD_SECONDS", "0", "ANNOUNCE_HOLD_SECONDS:"),
        ("RECEIPT_REQUIRED_ABOVE", "USD lots", "RECEIPT_REQUIRED_ABOVE: must be a plain amount like 1250"),
        ("RECEIPT_REQUIRED_ABOVE", "BUCKS 5", "RECEIPT_REQUIRED_ABOVE: 'BUCKS' is not a currency code"),
        ("MAX_DOCUMENT_MB", "0", "MAX_DOCUMENT_MB:"),
        ("MAX_DOCUMENT_MB", "ten", "MAX_DOCUMENT_MB:"),
        ("DOCUMENT_FETCH_SECONDS", "0", "DOCUMENT_FETCH_SECONDS:"),
        ("ANNOUNCE_SWEEP_SECONDS", "soon", "ANNOUNCE_SWEEP_SECONDS:"),
        ("PAYERS", "bob", "PAYERS: 'bob' is not a Slack user ID"),
        ("BILLS_DUE_NOTICE_DAYS", "-1", "BILLS_DUE_NOTICE_DAYS:"),
        ("BILLS_DUE_NOTICE_DAYS", "soon", "BILLS_DUE_NOTICE_DAYS:"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_every_bad_value_is_named_on_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    monkeypatch.setenv("DEFAULT_CURRENCY", "DOLLARS")
    monkeypatch.setenv("APPROVERS", "alice")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    lines = str(caught.value).splitlines()
    assert [line.split(":")[0] for line in lines] == ["PORT", "DEFAULT_CURRENCY", "APPROVERS"]
    assert lines[1] == "DEFAULT_CURRENCY: must be a three-letter ISO currency code such as USD"
    assert lines[2] == "APPROVERS: 'alice' is not a Slack user ID (U...) or user group ID (S...)"


@pytest.mark.parametrize(
    ("value", "thresholds"),
    [
        ("500", {None: Decimal(500)}),
        ("usd 500, EUR 450.50", {"USD": Decimal(500), "EUR": Decimal("450.50")}),
        (" USD 500 , ", {"USD": Decimal(500)}),
        ("", {}),
    ],
)
def test_approval_threshold_is_parsed_once_into_amounts(
    monkeypatch: pytest.MonkeyPatch, value: str, thresholds: dict[str | None, Decimal]
) -> None:
    monkeypatch.setenv("APPROVAL_THRESHOLD", value)
    assert load_settings().thresholds == thresholds
    # Given by keyword, as the Slack tests do, it means the same.
    monkeypatch.delenv("APPROVAL_THRESHOLD")
    assert Settings(_env_file=None, approval_threshold=value).thresholds == thresholds


def test_serving_needs_slack_credentials() -> None:
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN is not set"):
        Settings(_env_file=None).require_slack()
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET is not set"):
        Settings(_env_file=None, slack_bot_token="xoxb-1").require_slack()
    Settings(_env_file=None, slack_bot_token="xoxb-1", slack_app_token="xapp-1").require_slack()


def test_books_timezone_is_an_iana_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    assert str(load_settings().books_timezone) == "UTC"
    monkeypatch.setenv("BOOKS_TIMEZONE", "Asia/Jakarta")
    assert str(load_settings().clock().zone) == "Asia/Jakarta"
    monkeypatch.setenv("BOOKS_TIMEZONE", "Jakarta +7")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith("BOOKS_TIMEZONE: 'Jakarta +7' is not an IANA time zone name")


def test_document_settings_default_to_slacks_limit_and_no_receipt_rule() -> None:
    settings = load_settings()
    assert settings.max_document_mb == 10
    assert settings.max_document_bytes == 10_000_000
    assert settings.receipt_required_above == {}
    assert settings.document_fetch_seconds == 8.0


@pytest.mark.parametrize(
    ("value", "limits"),
    [
        ("250", {None: Decimal(250)}),
        ("usd 500, EUR 450.50", {"USD": Decimal(500), "EUR": Decimal("450.50")}),
        ("", {}),
    ],
)
def test_receipt_required_above_is_parsed_like_the_approval_threshold(
    monkeypatch: pytest.MonkeyPatch, value: str, limits: dict[str | None, Decimal]
) -> None:
    monkeypatch.setenv("RECEIPT_REQUIRED_ABOVE", value)
    monkeypatch.setenv("MAX_DOCUMENT_MB", "25")
    settings = load_settings()
    assert settings.receipt_required_above == limits
    assert settings.max_document_bytes == 25_000_000
    monkeypatch.delenv("RECEIPT_REQUIRED_ABOVE")
    assert Settings(_env_file=None, receipt_required_above=value).receipt_required_above == limits
