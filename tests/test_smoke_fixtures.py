from sqlalchemy.orm import Session, sessionmaker

from db.accounts import list_accounts


def test_default_chart_is_seeded(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        codes = [a.code for a in list_accounts(session)]
    assert {"1000", "1010", "1100", "1500", "2000", "6100"} <= set(codes)
