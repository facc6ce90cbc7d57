from __future__ import annotations

import pytest

from imports import services
from imports.models import ImportJob
from imports.upload import stage_local_file


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    """Each test gets its own upload directory, so leftover files are easy to see."""
    settings.IMPORT_TMP_DIR = tmp_path / "uploads"
    # Parse in-process by default; test_import_run covers the worker processes.
    settings.IMPORT_PARSE_PROCESSES = 0
    return settings.IMPORT_TMP_DIR


def leftover_files(directory) -> list:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.fixture
def run_import(user, tmp_path):
    """Import CSV text (or bytes) for `user` the way the worker does; returns the finished job."""

    def run(content: str | bytes, owner=None, **options) -> ImportJob:
        source = tmp_path / "source.csv"
        if isinstance(content, str):
            source.write_text(content, encoding="utf-8", newline="")
        else:
            source.write_bytes(content)
        job = services.import_create(
            owner_id=(owner or user).pk, upload=stage_local_file(str(source)), enqueue=False, **options
        )
        services.import_run(job_id=job.pk)
        job.refresh_from_db()
        return job

    return run
