from inboxerr.ids import uuid7


def test_ids_are_version_7_and_strictly_increasing_within_a_process():
    ids = [uuid7() for _ in range(10_000)]

    assert all(i.version == 7 and i.variant == "specified in RFC 4122" for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
