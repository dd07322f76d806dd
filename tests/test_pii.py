"""Personal data at rest: phone, ID number and address are stored encrypted, found by their blind
indexes, re-encrypted by `lps pii rotate`, and encrypted by the upgrade that introduced them."""
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from lps_core.db import get_engine
from lps_core.db.migrate import upgrade
from lps_core.errors import ConfigurationError
from lps_core.members.models import Member
from lps_core.members.privacy import reencrypt_personal_data
from lps_core.members.services import Enrolment, clean_enrolment, enrol_member
from lps_core.pii import PiiKeys, new_key
from lps_core.settings import apply_environment
from lps_core.testing import TEST_SETTINGS

PHONE = "+8613912345678"


@pytest.fixture
def member_id(db):
    member_id = enrol_member(db, clean_enrolment({
        "name": "Lin Yu", "channel": "desk", "phone": "+86 139 1234 5678", "id_number": "11010519491231002x",
        "address": "1 Chang'an Avenue, Beijing"}))
    db.commit()
    return member_id


def raw(db, member_id):
    return db.execute(text("SELECT phone, phone_index, id_number, id_number_index, address FROM members "
                           "WHERE id = :id"), {"id": member_id}).one()


def test_personal_data_is_stored_encrypted_and_read_back_in_clear(db, member_id):
    stored = raw(db, member_id)
    for value in (stored.phone, stored.id_number, stored.address):
        assert value.startswith("gAAAAA")  # a Fernet token
    assert "13912345678" not in stored.phone and "Beijing" not in stored.address
    assert len(stored.phone_index) == 64 and stored.phone_index != PHONE
    member = db.get(Member, member_id)
    assert (member.phone, member.id_number, member.address) == (PHONE, "11010519491231002X",
                                                                "1 Chang'an Avenue, Beijing")


def test_exact_look_ups_go_through_the_blind_index(db, member_id):
    assert db.scalar(select(Member.id).where(Member.phone_index == "+86 139-1234-5678")) == member_id
    assert db.scalar(select(Member.id).where(Member.id_number_index == "11010519491231002x")) == member_id
    assert db.scalar(select(Member.id).where(Member.phone_index == "+8613900000000")) is None


def test_the_cashier_finds_a_member_by_phone(testapp, seed):
    card_no = seed.member_card("Phone Guest")
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    matches = testapp.get("/api/v1/cashier/lookup", {"phone": "+86 138 0000 0000"}, headers=auth).json["matches"]
    assert [m["card_no"] for m in matches] == [card_no]
    assert matches[0]["member"]["phone"] == "+8613800000000"


def test_bad_personal_fields_are_named():
    with pytest.raises(Exception) as error:
        clean_enrolment({"name": "A", "channel": "desk", "phone": PHONE, "id_number": "x!", "address": ""})
    assert error.value.fields == {"id_number": "must be 5 to 32 letters, digits or dashes",
                                  "address": "must not be empty"}


def test_rotation_re_encrypts_with_the_newest_key_and_re_indexes(database_url, db, member_id):
    fresh_key, fresh_index = new_key(), "another-index-key-of-at-least-32-characters"
    settings = {"sqlalchemy.url": database_url, "lps.pii.keys": f"{fresh_key} {TEST_SETTINGS['lps.pii.keys']}",
                "lps.pii.index_key": fresh_index}
    engine = get_engine(settings, immediate=False)
    try:
        with Session(engine) as session:
            assert reencrypt_personal_data(session) == (1, member_id)
            session.commit()
            stored = raw(session, member_id)
            assert Fernet(fresh_key.encode()).decrypt(stored.address.encode()) == b"1 Chang'an Avenue, Beijing"
            assert session.scalar(select(Member.id).where(Member.phone_index == PHONE)) == member_id
            assert reencrypt_personal_data(session, after_id=member_id) == (0, member_id)
    finally:
        engine.dispose()


def test_the_app_does_not_start_without_keys():
    with pytest.raises(ConfigurationError, match="lps.pii.keys"):
        apply_environment({"sqlalchemy.url": "sqlite://"})
    with pytest.raises(ConfigurationError, match="not a Fernet key"):
        PiiKeys(["not-a-key"], "x" * 40)
    with pytest.raises(ConfigurationError, match="at least 32 characters"):
        PiiKeys([new_key()], "short")


def test_a_member_without_keys_cannot_be_written(tmp_path):
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path}/nokeys.sqlite", **TEST_SETTINGS})
    upgrade(engine)
    engine.dispose()
    bare = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path}/nokeys.sqlite"})
    with Session(bare) as session, pytest.raises(Exception, match="lps.pii.keys"):
        enrol_member(session, Enrolment(name="A", channel="desk", phone=PHONE))
    bare.dispose()


def test_the_upgrade_encrypts_phone_numbers_stored_in_clear(tmp_path):
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path}/old.sqlite", **TEST_SETTINGS})
    upgrade(engine, "0007")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO members (name, phone, gender, channel, status) "
                                "VALUES ('Old Guest', '+8613700000000', 'unspecified', 'desk', 'active')"))
    upgrade(engine)
    with Session(engine) as session:
        member = session.scalars(select(Member).where(Member.phone_index == "+8613700000000")).one()
        assert member.phone == "+8613700000000"
        assert raw(session, member.id).phone.startswith("gAAAAA")
    engine.dispose()


def test_members_inserted_by_core_statements_are_encrypted_too(db):
    member_id = db.scalar(insert(Member).values(name="Core", channel="desk", phone=PHONE, phone_index=PHONE)
                          .returning(Member.id))
    db.commit()
    assert raw(db, member_id).phone.startswith("gAAAAA")
