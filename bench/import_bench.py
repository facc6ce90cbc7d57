"""Benchmark of the streaming CSV import, against a bare PostgreSQL COPY of the same file.

    .venv/bin/python bench/import_bench.py                  # 100k and 1M rows (~1 min on 2 CPUs)
    .venv/bin/python bench/import_bench.py --rows 100000    # quick run

For each size it generates a contacts CSV with bench/gen_contacts.py (cached in
bench/out/), then measures:

- the worker code path, imports.services.import_run, in a fresh subprocess so that
  peak RSS is per run: wall time, rows/s, peak RSS of the worker process itself and
  the largest peak RSS among its phone-parsing helper processes;
- a bare `COPY ... FROM STDIN (FORMAT csv)` of the file into an unindexed temp table
  of six text columns: the floor for getting those bytes into PostgreSQL, so
  import/COPY is what parsing, validation and de-duplication cost on top.

It uses the database inboxerr_bench on 127.0.0.1:5432, or the one named by
IMPORT_BENCH_DATABASE (created and migrated if needed), and truncates the
contacts and jobs after each run. It prints a Markdown table and writes the
same figures to bench/out/import_bench.json. MB are MiB (ru_maxrss is in KiB
on Linux).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from gen_contacts import main as generate_csv  # bench/ is sys.path[0] when this runs as a script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
# Another name keeps runs on a shared server apart; the child process reads the same variable.
DB_NAME = os.environ.get("IMPORT_BENCH_DATABASE", "inboxerr_bench")
BLOCK = 1 << 20
# DEBUG=false so Django keeps no query log, which would grow with every batch; it insists on a long SECRET_KEY.
CHILD_ENV = {
    "DATABASE_URL": f"{SERVER_URL}/{DB_NAME}",
    "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-throwaway-secret-key-" + "x" * 40,
    "PYTHONPATH": str(ROOT),
}
ENV = {**os.environ, **CHILD_ENV}  # IMPORT_PARSE_PROCESSES and the like pass through from the caller
TARGET_1M_SECONDS, TARGET_RSS_MB, TARGET_GROWTH_MB = 60, 150, 20


def csv_for(rows: int) -> Path:
    path = OUT / f"contacts_{rows}.csv"
    if not path.exists():
        print(f"generating {path.relative_to(ROOT)} ...", file=sys.stderr, flush=True)
        partial = path.with_suffix(".partial")
        generate_csv(rows, str(partial))
        partial.rename(path)  # an interrupted generation must not leave a short file that looks cached
    return path


def ensure_database() -> None:
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(DB_NAME)))
    # Every time: a no-op when up to date, and it picks up migrations added since the last run.
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=ENV, check=True)


def child(rows: int) -> None:
    """In a fresh process: import the file once, check the counters, print the figures as JSON."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from imports.models import ImportJob
    from imports.services import import_run

    source = csv_for(rows)
    scratch = OUT / f"scratch_{rows}_{os.getpid()}.csv"
    shutil.copyfile(source, scratch)  # import_run deletes its file when it ends
    owner, _ = get_user_model().objects.get_or_create(username="import-bench")
    job = ImportJob.objects.create(
        owner=owner,
        original_filename=source.name,
        size_bytes=source.stat().st_size,
        file_path=str(scratch),
        default_region="GB",
    )
    try:
        start = time.perf_counter()
        done = import_run(job_id=job.pk)
        seconds = time.perf_counter() - start
        # Read at once: RUSAGE_CHILDREN covers the parser processes, all joined by the time import_run returns.
        worker_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        parsers_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        check(done, rows)
        counters = {f: getattr(done, f) for f in ("total_rows", "imported_rows", "invalid_rows", "duplicate_rows")}
        figures = {"import_s": seconds, "worker_rss_mb": worker_kib / 1024, "parsers_rss_mb": parsers_kib / 1024}
        print(json.dumps({**figures, "status": done.status, **counters, "processes": settings.IMPORT_PARSE_PROCESSES}))
    finally:
        scratch.unlink(missing_ok=True)
        # TRUNCATE wipes every user's contacts: refuse anywhere but the bench database.
        if connection.settings_dict["NAME"] != DB_NAME:
            raise SystemExit(f"refusing to truncate database {connection.settings_dict['NAME']!r}")
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE imports_contact, imports_importjob CASCADE")


def check(job, rows: int) -> None:
    if job is None:
        raise SystemExit("FAIL: import_run did not claim the job")
    parts = job.imported_rows + job.invalid_rows + job.duplicate_rows
    if job.status != "SUCCESS" or job.total_rows != parts or job.total_rows != rows:
        raise SystemExit(
            f"FAIL: status={job.status} total={job.total_rows} (file has {rows}) imported={job.imported_rows} "
            f"invalid={job.invalid_rows} duplicate={job.duplicate_rows} failure_reason={job.failure_reason!r}"
        )


def run_import(rows: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--rows", str(rows)]
    proc = subprocess.run(command, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the import of {rows:,} rows failed (exit {proc.returncode}); see above")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def time_copy(path: Path, rows: int) -> float:
    """The floor: a bare COPY of the file into an unindexed temp table (temp: no WAL) of six text columns."""
    with psycopg.connect(f"{SERVER_URL}/{DB_NAME}") as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE copy_floor (a text, b text, c text, d text, e text, f text)")
        start = time.perf_counter()
        with path.open("rb") as f, cur.copy("COPY copy_floor FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            while block := f.read(BLOCK):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - start
        if cur.rowcount != rows:
            raise SystemExit(f"FAIL: COPY loaded {cur.rowcount} rows, expected {rows}")
    return seconds


def measure(rows: int) -> dict:
    path = csv_for(rows)
    print(f"importing {rows:,} rows ...", file=sys.stderr, flush=True)
    result = {"rows": rows, **run_import(rows)}
    print(
        f"{rows:,} rows: {result['status']} total={result['total_rows']} imported={result['imported_rows']} "
        f"invalid={result['invalid_rows']} duplicate={result['duplicate_rows']} "
        f"({result['processes']} parser processes)",
        flush=True,
    )
    result["copy_s"] = time_copy(path, rows)
    result["rows_per_s"] = rows / result["import_s"]
    result["copy_rows_per_s"] = rows / result["copy_s"]
    result["ratio"] = result["import_s"] / result["copy_s"]
    return result


def table(results: list[dict]) -> str:
    columns = ["rows", "import s", "rows/s", "worker peak RSS MB", "parsers peak RSS MB", "bare COPY s", "COPY rows/s"]
    columns.append("import/COPY")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---:|" * len(columns)]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['import_s']:.1f} | {r['rows_per_s']:,.0f} | {r['worker_rss_mb']:.0f} "
            f"| {r['parsers_rss_mb']:.0f} | {r['copy_s']:.2f} | {r['copy_rows_per_s']:,.0f} | {r['ratio']:.1f}x |"
        )
    return "\n".join(lines)


def targets(results: list[dict]) -> list[dict]:
    by_rows = {r["rows"]: r for r in results}
    big, small = by_rows.get(1_000_000), by_rows.get(100_000)
    growth = big["worker_rss_mb"] - small["worker_rss_mb"] if big and small else None
    return [
        target(f"1M rows in under {TARGET_1M_SECONDS} s", big and big["import_s"], TARGET_1M_SECONDS, "s"),
        target(f"worker peak RSS under {TARGET_RSS_MB} MB", max(r["worker_rss_mb"] for r in results), TARGET_RSS_MB),
        target(f"1M-row peak RSS within {TARGET_GROWTH_MB} MB of the 100k-row peak", growth, TARGET_GROWTH_MB),
    ]


def target(name: str, value: float | None, limit: float, unit: str = "MB") -> dict:
    """ok: |value| <= limit, or None when this run did not measure it (a size was left out)."""
    if value is None:
        return {"target": name, "ok": None, "seen": "not measured in this run"}
    return {"target": name, "ok": abs(value) <= limit, "seen": f"{value:.1f} {unit}"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=f"Database: {DB_NAME} (set IMPORT_BENCH_DATABASE for another)."
    )
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated sizes (default: %(default)s)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # one measured import run
    args = parser.parse_args()
    sizes = [int(n) for n in args.rows.split(",")]
    OUT.mkdir(exist_ok=True)
    if args.child:
        return child(sizes[0])

    command = shlex.join([os.path.relpath(sys.executable), *sys.argv])
    print(f"$ {command}\n", flush=True)
    ensure_database()
    results = [measure(rows) for rows in sizes]
    checks = targets(results)
    print(f"\n{table(results)}\n\nTargets (shown, not asserted):")
    for t in checks:
        print(f"- {'n/a ' if t['ok'] is None else 'PASS' if t['ok'] else 'MISS'}  {t['target']}: {t['seen']}")
    report = {"command": command, "cpu_count": os.cpu_count(), "results": results, "targets": checks}
    (OUT / "import_bench.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
