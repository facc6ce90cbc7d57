"""Benchmark of the streaming contact import, CSV and Excel workbook (.xlsx), each against a floor.

    .venv/bin/python bench/import_bench.py                        # 100k and 1M rows, CSV and .xlsx (~5 min on 2 CPUs)
    .venv/bin/python bench/import_bench.py --rows 100000          # quick run
    .venv/bin/python bench/import_bench.py --rows 1000000 --formats xlsx

For each size it generates a contacts CSV with bench/gen_contacts.py, and from it a
workbook with bench/gen_workbook.py (shared strings, as Excel saves one), both cached
in bench/out/, then measures for each format:

- the worker code path, imports.services.import_run, in a fresh subprocess so that
  peak RSS is per run: wall time, rows/s, peak RSS of the worker process itself and
  the largest peak RSS among its phone-parsing helper processes;
- the floor. CSV: a bare `COPY ... FROM STDIN (FORMAT csv)` of the file into an
  unindexed temp table of six text columns, the floor for getting those bytes into
  PostgreSQL. .xlsx: openpyxl alone reading the workbook in read-only mode in a fresh
  subprocess (every row, values_only, no database), the floor for getting the cells
  out of the file; its peak RSS right after load_workbook (which loads the
  shared-string table) and after reading every row say what holds the memory.
  import/floor is what parsing, validation and de-duplication cost on top.
- the database floor (CSV): the same rows already normalised, as the import writes them
  (E.164 phone, name, variables as JSON, row number, line type, phone column; made once
  with phonenumbers, the reference parser, and cached in bench/out/), COPYed in one go
  into a temp staging table and inserted with one `INSERT INTO imports_contact ... SELECT
  ... ON CONFLICT DO NOTHING` (its indexes, its unique (import, phone) rule, the import's
  `synchronous_commit = off`), then committed: what PostgreSQL itself needs to take these
  contacts, with no parsing at all. import/database floor is what the import adds to it.
  The contacts the floor leaves are compared with the import's (count and a hash of every
  row's values): a difference fails the run.

It uses the database inboxerr_bench on 127.0.0.1:5432, or the one named by
IMPORT_BENCH_DATABASE (created and migrated if needed), and truncates the
contacts and jobs after each run. It prints a Markdown table and writes the
same figures to bench/out/import_bench.json. MB are MiB (VmHWM and ru_maxrss are
in KiB on Linux). The helpers' peak is RUSAGE_CHILDREN of the worker: forked, not
exec'd, so it counts the worker's pages they inherited, as their RSS does.
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
from gen_workbook import main as generate_workbook

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
TARGET_1M_SECONDS, TARGET_RSS_MB, TARGET_GROWTH_MB, TARGET_XLSX_RSS_MB = 15, 100, 20, 250
TARGET_HELPER_RSS_MB, TARGET_DB_RATIO = 100, 1.3
CONTACT_COLUMNS = ("phone", "name", "variables", "row_number", "line_type", "phone_column")
# Every value of every contact of a job, in one order-independent number: the import's and the floor's must match.
CONTACTS_HASH = (
    "SELECT count(*), coalesce(sum(hashtextextended(concat_ws(E'\\x1f', phone, name, variables::text, row_number, "
    "line_type, phone_column, owner_id), 0)), 0)::text FROM imports_contact WHERE import_job_id = %s"
)
FORMATS = ("csv", "xlsx")


def csv_for(rows: int) -> Path:
    return cached(OUT / f"contacts_{rows}.csv", lambda partial: generate_csv(rows, partial))


def file_for(rows: int, file_format: str) -> Path:
    if file_format == "csv":
        return csv_for(rows)
    source = csv_for(rows)
    return cached(OUT / f"contacts_{rows}.xlsx", lambda partial: generate_workbook(str(source), partial))


def cached(path: Path, generate) -> Path:
    if not path.exists():
        print(f"generating {path.relative_to(ROOT)} ...", file=sys.stderr, flush=True)
        partial = path.with_name(path.name + ".partial")
        generate(str(partial))
        partial.rename(path)  # an interrupted generation must not leave a short file that looks cached
    return path


def ensure_database() -> None:
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(DB_NAME)))
    # Every time: a no-op when up to date, and it picks up migrations added since the last run.
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=ENV, check=True)


def child(rows: int, file_format: str) -> None:
    """In a fresh process: import the file once, check the counters, print the figures as JSON."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from imports.models import ImportJob
    from imports.services import import_run

    source = file_for(rows, file_format)
    scratch = OUT / f"scratch_{rows}_{os.getpid()}.{file_format}"
    shutil.copyfile(source, scratch)  # import_run deletes its file when it ends
    owner, _ = get_user_model().objects.get_or_create(username="import-bench")
    job = ImportJob.objects.create(
        owner=owner,
        original_filename=source.name,
        size_bytes=source.stat().st_size,
        file_path=str(scratch),
        file_format=file_format,
        default_region="GB",
    )
    try:
        start = time.perf_counter()
        done = import_run(job_id=job.pk)
        seconds = time.perf_counter() - start
        # Read at once: RUSAGE_CHILDREN covers the parser processes, all joined by the time import_run returns.
        worker_mb = peak_rss_mb()
        parsers_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        check(done, rows)
        counters = {f: getattr(done, f) for f in ("total_rows", "imported_rows", "invalid_rows", "duplicate_rows")}
        figures = {"import_s": seconds, "worker_rss_mb": worker_mb, "parsers_rss_mb": parsers_kib / 1024}
        with connection.cursor() as cursor:
            cursor.execute(CONTACTS_HASH, [job.pk])
            figures["contacts_hash"] = list(cursor.fetchone())
        settings_used = {"processes": settings.IMPORT_PARSE_PROCESSES, "phone_parser": settings.PHONE_PARSER}
        print(json.dumps({**figures, "status": done.status, **counters, **settings_used}))
    finally:
        scratch.unlink(missing_ok=True)
        # TRUNCATE wipes every user's contacts: refuse anywhere but the bench database.
        if connection.settings_dict["NAME"] != DB_NAME:
            raise SystemExit(f"refusing to truncate database {connection.settings_dict['NAME']!r}")
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE imports_contact, imports_importjob CASCADE")


def normalised_for(rows: int) -> Path:
    """The rows of the CSV as the import writes them, as COPY text lines (CONTACT_COLUMNS), made once."""
    path = OUT / f"contacts_{rows}.normalised.tsv"
    return cached(path, lambda partial: run_child(rows, "--normalise-child", partial))


def normalise_child(rows: int, path: str) -> None:
    """In a fresh process: read the CSV with the import's own layout and row converter, with phonenumbers (the
    reference), and write each contact it would insert (repeats too: the floor's insert skips them)."""
    import django

    django.setup()
    from imports.layout import ContactFile, iter_records, layout_of
    from imports.phones import reader_for
    from imports.rows import RowConverter, RowError

    with ContactFile(str(csv_for(rows))) as file, open(path, "w", encoding="utf-8") as out:
        layout = layout_of(file)
        converter = RowConverter(layout, "GB")
        converter.read = reader_for("phonenumbers").read  # the reference, whatever PHONE_PARSER says
        with file.table() as table:
            for row_number, cells in iter_records(table.rows, layout):
                contact = converter.convert(row_number, cells)
                if isinstance(contact, RowError):
                    continue
                values = [contact.phone, contact.name, json.dumps(contact.variables, ensure_ascii=False)]
                values += [str(contact.row_number), contact.line_type, contact.phone_column]
                out.write("\t".join(map(copy_escape, values)) + "\n")
    print(json.dumps({"path": path}))


def copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def floor_child(rows: int) -> None:
    """In a fresh process: the database floor. The normalised rows COPYed into a staging table and inserted
    into the contacts table in one statement, as the import's batches are; prints the time and the contacts."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from imports.models import ImportJob

    path = normalised_for(rows)
    owner, _ = get_user_model().objects.get_or_create(username="import-bench")
    job = ImportJob.objects.create(owner=owner, original_filename="floor", file_format="csv", default_region="GB")
    names = ", ".join(("owner_id", "import_job_id", *CONTACT_COLUMNS))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute(
                f"CREATE TEMP TABLE floor_stage ON COMMIT DROP AS SELECT {names} FROM imports_contact WITH NO DATA"
            )
            # The owner and the job are the same for every row: the file leaves them out.
            owner_id, job_id = int(owner.pk), int(job.pk)
            cursor.execute(
                f"ALTER TABLE floor_stage ALTER owner_id SET DEFAULT {owner_id}, "
                f"ALTER import_job_id SET DEFAULT {job_id}"
            )
            copy_sql = f"COPY floor_stage ({', '.join(CONTACT_COLUMNS)}) FROM STDIN"
            start = time.perf_counter()
            with path.open("rb") as f, cursor.cursor.copy(copy_sql) as copy:
                while block := f.read(BLOCK):
                    copy.write(block)
            copied = time.perf_counter()
            cursor.execute(
                f"INSERT INTO imports_contact ({names}) SELECT {names} FROM floor_stage ON CONFLICT DO NOTHING"
            )
            inserted = cursor.rowcount
        seconds = time.perf_counter() - start
        with connection.cursor() as cursor:
            cursor.execute(CONTACTS_HASH, [job.pk])
            contacts_hash = list(cursor.fetchone())
        figures = {"db_floor_s": seconds, "db_floor_copy_s": copied - start, "db_floor_inserted": inserted}
        print(json.dumps({**figures, "db_floor_hash": contacts_hash}))
    finally:
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


def read_child(rows: int) -> None:
    """In a fresh process, no Django: openpyxl alone reads the workbook; peak RSS after loading it and after reading."""
    import openpyxl

    figures = {"start_rss_mb": peak_rss_mb()}
    start = time.perf_counter()
    # As imports/xlsxfile.py opens it; loading reads the whole shared-string table into memory.
    workbook = openpyxl.load_workbook(file_for(rows, "xlsx"), read_only=True, data_only=True, keep_links=False)
    loaded = {"load_s": time.perf_counter() - start, "load_rss_mb": peak_rss_mb()}
    sheet = workbook.worksheets[0]
    figures.update(loaded, shared_strings=len(sheet._shared_strings))  # the reader hands the table to each sheet
    read = sum(1 for _ in sheet.iter_rows(values_only=True))
    figures.update(read_s=time.perf_counter() - start, read_rss_mb=peak_rss_mb())
    workbook.close()
    if read != rows + 1:
        raise SystemExit(f"FAIL: openpyxl read {read} rows, expected {rows} and the header")
    print(json.dumps(figures))


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not RUSAGE_SELF: its ru_maxrss keeps, across exec, the peak of the
    process that started it (this script's parent, swollen by generating a workbook)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def run_child(rows: int, *flags: str) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), *flags, "--rows", str(rows)]
    proc = subprocess.run(command, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(flags)} of {rows:,} rows failed (exit {proc.returncode}); see above")
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


def measure(rows: int, file_format: str) -> dict:
    path = file_for(rows, file_format)
    print(f"importing {rows:,} rows from {file_format} ...", file=sys.stderr, flush=True)
    result = {"format": file_format, "rows": rows, **run_child(rows, "--child", "--formats", file_format)}
    print(
        f"{rows:,} rows, {file_format}: {result['status']} total={result['total_rows']} "
        f"imported={result['imported_rows']} invalid={result['invalid_rows']} duplicate={result['duplicate_rows']} "
        f"({result['processes']} parser processes)",
        flush=True,
    )
    if file_format == "csv":
        result.update(floor="bare COPY", floor_s=time_copy(path, rows), floor_rss_mb=None)
        normalised_for(rows)  # made (once) before the floor is timed
        result.update(run_child(rows, "--floor-child"))
        result["db_ratio"] = result["import_s"] / result["db_floor_s"]
        if result["db_floor_hash"] != result["contacts_hash"]:
            raise SystemExit(
                f"FAIL: the import's contacts {result['contacts_hash']} are not the floor's {result['db_floor_hash']}"
                " (count, hash of every value)"
            )
    else:
        read = run_child(rows, "--read-child")
        result.update(floor="openpyxl read", floor_s=read["read_s"], floor_rss_mb=read["read_rss_mb"], openpyxl=read)
    result["rows_per_s"] = rows / result["import_s"]
    result["floor_rows_per_s"] = rows / result["floor_s"]
    result["ratio"] = result["import_s"] / result["floor_s"]
    return result


def table(results: list[dict]) -> str:
    columns = ["format", "rows", "import s", "rows/s", "worker peak RSS MB", "helper peak RSS MB", "floor"]
    columns += ["floor s", "floor rows/s", "floor peak RSS MB", "import/floor", "database floor s"]
    columns += ["import/database floor"]
    lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * 5 + "---|" + "---:|" * 6]
    for r in results:
        floor_rss = "-" if r["floor_rss_mb"] is None else f"{r['floor_rss_mb']:.0f}"
        db_floor = f"{r['db_floor_s']:.2f} | {r['db_ratio']:.2f}x" if "db_floor_s" in r else "- | -"
        lines.append(
            f"| {r['format']} | {r['rows']:,} | {r['import_s']:.1f} | {r['rows_per_s']:,.0f} "
            f"| {r['worker_rss_mb']:.0f} | {r['parsers_rss_mb']:.0f} | {r['floor']} | {r['floor_s']:.2f} "
            f"| {r['floor_rows_per_s']:,.0f} | {floor_rss} | {r['ratio']:.1f}x | {db_floor} |"
        )
    return "\n".join(lines)


def memory_table(results: list[dict]) -> str:
    """Where openpyxl's memory goes: peak RSS of the read-only process at its start, after load_workbook, at its end."""
    columns = ["rows", "shared strings", "openpyxl imported MB", "after load_workbook MB", "after every row MB"]
    columns.append("load s")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---:|" * len(columns)]
    for r in results:
        if o := r.get("openpyxl"):
            lines.append(
                f"| {r['rows']:,} | {o['shared_strings']:,} | {o['start_rss_mb']:.0f} | {o['load_rss_mb']:.0f} "
                f"| {o['read_rss_mb']:.0f} | {o['load_s']:.1f} |"
            )
    return "\n".join(lines)


def targets(results: list[dict]) -> list[dict]:
    checks = []
    csv = {r["rows"]: r for r in results if r["format"] == "csv"}
    if csv:
        big, small = csv.get(1_000_000), csv.get(100_000)
        growth = big["worker_rss_mb"] - small["worker_rss_mb"] if big and small else None
        peak = max(r["worker_rss_mb"] for r in csv.values())
        helper = max(r["parsers_rss_mb"] for r in csv.values())
        worst_ratio = max(r["db_ratio"] for r in csv.values())
        checks += [
            target(f"CSV: 1M rows in at most {TARGET_1M_SECONDS} s", big and big["import_s"], TARGET_1M_SECONDS, "s"),
            target(f"CSV: import / database floor at most {TARGET_DB_RATIO}x", worst_ratio, TARGET_DB_RATIO, "x"),
            target(f"CSV: worker peak RSS at most {TARGET_RSS_MB} MB", peak, TARGET_RSS_MB),
            target(f"CSV: helper process peak RSS at most {TARGET_HELPER_RSS_MB} MB", helper, TARGET_HELPER_RSS_MB),
            target(f"CSV: 1M-row peak RSS within {TARGET_GROWTH_MB} MB of the 100k-row peak", growth, TARGET_GROWTH_MB),
        ]
    xlsx = {r["rows"]: r for r in results if r["format"] == "xlsx"}
    if xlsx:
        big = xlsx.get(1_000_000)
        name = f".xlsx: 1M rows with worker peak RSS under {TARGET_XLSX_RSS_MB} MB"
        checks.append(target(name, big and big["worker_rss_mb"], TARGET_XLSX_RSS_MB))
    return checks


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
    parser.add_argument("--formats", default="csv,xlsx", help="comma-separated, of csv and xlsx (default: %(default)s)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # one measured import run
    parser.add_argument("--read-child", action="store_true", help=argparse.SUPPRESS)  # one openpyxl read
    parser.add_argument("--floor-child", action="store_true", help=argparse.SUPPRESS)  # the database floor
    parser.add_argument("--normalise-child", metavar="PATH", help=argparse.SUPPRESS)  # the floor's rows, made once
    args = parser.parse_args()
    sizes = [int(n) for n in args.rows.split(",")]
    formats = args.formats.split(",")
    if unknown := set(formats) - set(FORMATS):
        parser.error(f"unknown format(s) {', '.join(sorted(unknown))}; use {' or '.join(FORMATS)}")
    OUT.mkdir(exist_ok=True)
    if args.child:
        return child(sizes[0], formats[0])
    if args.read_child:
        return read_child(sizes[0])
    if args.floor_child:
        return floor_child(sizes[0])
    if args.normalise_child:
        return normalise_child(sizes[0], args.normalise_child)

    command = shlex.join([os.path.relpath(sys.executable), *sys.argv])
    print(f"$ {command}\n", flush=True)
    ensure_database()
    results = [measure(rows, file_format) for rows in sizes for file_format in formats]
    checks = targets(results)
    print(f"\n{table(results)}")
    if "xlsx" in formats:
        print(f"\nopenpyxl alone, read-only, peak RSS:\n\n{memory_table(results)}")
    print("\nTargets (shown, not asserted):")
    for t in checks:
        print(f"- {'n/a ' if t['ok'] is None else 'PASS' if t['ok'] else 'MISS'}  {t['target']}: {t['seen']}")
    report = {"command": command, "cpu_count": os.cpu_count(), "results": results, "targets": checks}
    (OUT / "import_bench.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
