import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from imports.models import Contact
from imports.tests.factories import ImportJobFactory
from inboxerr.bulk import (
    SMALL_BATCH,
    insert_counting_by,
    insert_ignoring_conflicts,
    insert_returning_kept,
    insert_statement,
    run_together,
)

COLUMNS = ("owner_id", "import_job_id", "phone", "name", "variables", "row_number")


def test_it_inserts_and_counts_only_the_new_rows_keeping_the_first_of_a_pair(db):
    job = ImportJobFactory()
    row = lambda phone, name, n: (job.owner_id, job.pk, phone, name, {"k": name}, n)  # noqa: E731

    with transaction.atomic():
        first = insert_ignoring_conflicts(
            model=Contact, columns=COLUMNS, rows=[row("+447400000002", "late", 9), row("+447400000002", "early", 2)],
            order_by="row_number",
        )  # fmt: skip
    with transaction.atomic():
        second = insert_ignoring_conflicts(
            model=Contact, columns=COLUMNS, rows=[row("+447400000002", "again", 5), row("+447400000003", "new", 6)]
        )

    assert (first, second) == (1, 1)
    assert dict(Contact.objects.values_list("phone", "name")) == {"+447400000002": "early", "+447400000003": "new"}
    assert Contact.objects.get(phone="+447400000003").variables == {"k": "new"}


def test_nothing_to_insert_is_zero(db):
    with transaction.atomic():
        assert insert_ignoring_conflicts(model=Contact, columns=COLUMNS, rows=[]) == 0


def test_a_large_batch_takes_the_bulk_path_with_the_same_rules(db):
    job = ImportJobFactory()
    rows = [(job.owner_id, job.pk, f"+4474000{n:05d}", f"n{n}", {}, n + 10) for n in range(SMALL_BATCH + 50)]
    rows.insert(0, (job.owner_id, job.pk, "+447400000007", "first", {}, 1))  # wins over row n=7 below

    with transaction.atomic():
        inserted = insert_ignoring_conflicts(model=Contact, columns=COLUMNS, rows=rows, order_by="row_number")

    assert inserted == SMALL_BATCH + 50
    assert Contact.objects.get(phone="+447400000007").name == "first"


@pytest.mark.parametrize("size", [3, SMALL_BATCH + 50])  # one INSERT, and the bulk path
def test_returning_kept_names_the_rows_that_went_in_so_the_rest_were_conflicts(db, size):
    job = ImportJobFactory()
    rows = [(job.owner_id, job.pk, f"+4474000{n:05d}", f"n{n}", {}, n + 10) for n in range(size)]
    rows.append((job.owner_id, job.pk, "+447400000001", "repeat", {}, size + 100))  # a repeat of n=1, later

    with transaction.atomic():
        kept = insert_returning_kept(model=Contact, columns=COLUMNS, rows=rows, order_by="row_number",
                                     returning="row_number")  # fmt: skip
    with transaction.atomic():
        assert insert_returning_kept(model=Contact, columns=COLUMNS, rows=[], order_by="row_number",
                                     returning="row_number") == []  # fmt: skip

    assert sorted(kept) == [n + 10 for n in range(size)]
    assert Contact.objects.count() == size


@pytest.mark.parametrize("size", [3, SMALL_BATCH + 50])  # one INSERT, and the bulk path
def test_counting_by_a_column_counts_only_the_rows_that_went_in(db, size):
    job = ImportJobFactory()
    columns = (*COLUMNS, "line_type")
    kinds = ["mobile", "fixed_line", "mobile"]
    rows = [(job.owner_id, job.pk, f"+4474000{n:05d}", "", {}, n + 10, kinds[n % 3]) for n in range(size)]
    rows.append((job.owner_id, job.pk, "+447400000001", "repeat", {}, size + 100, "toll_free"))  # a repeat, left out

    with transaction.atomic():
        counted = insert_counting_by(model=Contact, columns=columns, rows=rows, order_by="row_number",
                                     count_by="line_type")  # fmt: skip
    with transaction.atomic():
        assert insert_counting_by(model=Contact, columns=columns, rows=[], order_by="row_number",
                                  count_by="line_type") == {}  # fmt: skip

    fixed = size // 3 + (size % 3 > 1)
    assert counted == {"mobile": size - fixed, "fixed_line": fixed}
    assert Contact.objects.count() == size


@pytest.mark.django_db(transaction=True)
def test_statements_run_together_stand_or_fall_together_outside_a_transaction():
    job = ImportJobFactory()
    contact = lambda phone, job_id: (job.owner_id, job_id, phone, "", {}, 1)  # noqa: E731
    first = insert_statement(model=Contact, columns=COLUMNS, rows=[contact("+447400000001", job.pk)])
    no_job = insert_statement(model=Contact, columns=COLUMNS, rows=[contact("+447400000002", job.pk + 1)])
    second = insert_statement(model=Contact, columns=COLUMNS, rows=[contact("+447400000002", job.pk)])

    with pytest.raises(IntegrityError):  # the foreign key, checked as the statement commits
        run_together([first, no_job])
    assert not Contact.objects.exists()

    run_together([first, second])
    assert Contact.objects.count() == 2


UNLESS_KNOWN = ("SELECT phone FROM imports_contact WHERE phone = %s", ["+447400000009"])


@pytest.mark.django_db(transaction=True)
def test_statements_run_unless_the_query_finds_a_row_and_then_answer_what_it_found():
    job = ImportJobFactory()
    contact = lambda phone: (job.owner_id, job.pk, phone, "Ann", {"k": "v"}, 1)  # noqa: E731
    statement = lambda phone: insert_statement(model=Contact, columns=COLUMNS, rows=[contact(phone)])  # noqa: E731

    assert run_together([statement("+447400000009")], unless=UNLESS_KNOWN) == []  # found nothing: inserted
    assert run_together([statement("+447400000001")], unless=UNLESS_KNOWN) == [("+447400000009",)]

    assert list(Contact.objects.values_list("phone", "name", "variables")) == [("+447400000009", "Ann", {"k": "v"})]


@pytest.mark.postgres  # the rows are selected and cast, not inserted as given
@pytest.mark.django_db(transaction=True)
def test_a_value_too_long_for_its_column_is_refused_not_cut_short_when_the_insert_is_screened():
    job = ImportJobFactory()
    too_long = insert_statement(
        model=Contact, columns=COLUMNS, rows=[(job.owner_id, job.pk, "+4474" + "0" * 30, "", {}, 1)]
    )

    with pytest.raises(DataError):
        run_together([too_long], unless=UNLESS_KNOWN)
    assert not Contact.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_prepares_a_statement_once_and_a_new_connection_prepares_it_again():
    job = ImportJobFactory()
    statement = lambda phone: insert_statement(  # noqa: E731
        model=Contact, columns=COLUMNS, rows=[(job.owner_id, job.pk, phone, "", {}, 1)]
    )
    connection.close()

    runs = []
    for phone in ("+447400000001", "+447400000002", "reconnect", "+447400000003"):
        if phone == "reconnect":
            connection.close()
            continue
        with CaptureQueriesContext(connection) as queries:
            run_together([statement(phone)], unless=UNLESS_KNOWN)
        runs.append([q["sql"].split(" ")[0] for q in queries.captured_queries])

    assert runs == [["PREPARE", "EXECUTE"], ["EXECUTE"], ["PREPARE", "EXECUTE"]]
    assert Contact.objects.count() == 3
