from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_input.dbstate import row_counts

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    """Each test gets its own upload directory, so a file left behind is easy to see; parse in-process."""
    settings.IMPORT_TMP_DIR = tmp_path / "uploads"
    settings.IMPORT_PARSE_PROCESSES = 0
    return settings.IMPORT_TMP_DIR


@pytest.fixture
def before(api) -> dict[str, int]:
    """Row counts once the user and their token exist: the state a bad request must leave as it found it."""
    return row_counts()


def corpus_bytes(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def leftover_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.fixture
def run_import_text(user, tmp_path):
    """Import CSV text for `user` the way the worker does; returns the finished job."""
    from imports import services
    from imports.upload import stage_local_file

    def run(text: str, **options):
        source = tmp_path / "source.csv"
        source.write_text(text, encoding="utf-8", newline="")
        job = services.import_create(owner_id=user.pk, upload=stage_local_file(str(source)), enqueue=False, **options)
        services.import_run(job_id=job.pk)
        job.refresh_from_db()
        return job

    return run
