"""manage.py import_csv runs the upload pipeline in the foreground."""

import pytest
from django.core.management import CommandError, call_command

from imports.models import ImportJob
from imports.tests.conftest import leftover_files


def test_it_imports_a_local_file_and_prints_a_summary(user, tmp_path, upload_dir, capsys):
    source = tmp_path / "people.csv"
    source.write_text("Name,Phone\nAnn,07400 000001\nBad,123\n")

    call_command("import_csv", str(source), "--owner", user.username)

    job = ImportJob.objects.get()
    out = capsys.readouterr().out
    assert job.status == ImportJob.Status.SUCCESS
    assert job.owner == user
    assert f"Import {job.pk}: SUCCESS" in out
    assert "rows 2: imported 1, invalid 1, duplicates 0" in out
    assert "line types: Mobile 1" in out
    assert "row 3, Phone:" in out
    assert source.exists()  # the operator's own file is left alone
    assert leftover_files(upload_dir) == []


def test_it_takes_the_same_options_as_an_upload(user, tmp_path):
    source = tmp_path / "people.tsv"
    source.write_text("Who\tHandy\n Ann\t(201) 555-0123\n")

    call_command(
        "import_csv",
        str(source),
        "--owner",
        user.username,
        "--region",
        "us",
        "--phone-column",
        "handy",
        "--delimiter",
        "tab",
    )

    assert ImportJob.objects.get().contacts.get().phone == "+12015550123"


def test_a_failed_import_exits_with_an_error(user, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("Name,City\nAnn,Leeds\n")

    with pytest.raises(CommandError, match="failed"):
        call_command("import_csv", str(source), "--owner", user.username)

    assert "No phone column" in ImportJob.objects.get().failure_reason


@pytest.mark.parametrize(
    ("args", "message"),
    [(["/no/such.csv", "--owner", "x"], "No such file"), (["{src}", "--owner", "nobody"], "No user 'nobody'")],
)
def test_bad_arguments_are_refused(user, tmp_path, args, message):
    source = tmp_path / "a.csv"
    source.write_text("phone\n")

    with pytest.raises(CommandError, match=message):
        call_command("import_csv", *[a.format(src=source) for a in args])


def test_bad_options_are_refused_like_an_uploads(user, tmp_path):
    source = tmp_path / "a.csv"
    source.write_text("phone\n+447400000001\n")

    with pytest.raises(CommandError, match="default_region: 'XX' is not an ISO 3166"):
        call_command("import_csv", str(source), "--owner", user.username, "--region", "xx")
