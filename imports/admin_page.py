"""What an import's admin page shows: how its columns were read, its first row errors and repeats (all of
them a click away, and the errors as CSV), and where to go next."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from imports.line_types import TEXTABLE, LineType
from imports.models import ImportJob

# Shown on the page itself; the rest on the job's own pages of them.
INLINE = 10
PER_PAGE = 100

# Other apps' next steps from a finished import ("New campaign from this import"), registered in their
# AppConfig.ready: each takes the job and answers (label, url), or None when it does not apply.
_next_steps: list[Callable[[ImportJob], tuple[str, str] | None]] = []


def register_next_step(step: Callable[[ImportJob], tuple[str, str] | None]) -> None:
    if step not in _next_steps:
        _next_steps.append(step)


def job_url(job: ImportJob, name: str) -> str:
    return reverse(f"admin:imports_importjob_{name}", args=[job.pk])


# What each list of rows holds, as its page and CSV show it.
KINDS: dict[str, dict[str, Any]] = {
    "errors": {
        "title": "Row errors",
        "columns": [("row", "Row"), ("column", "Column"), ("message", "Message")],
        "count": "invalid_rows",
        "noun": "invalid rows",
    },
    "duplicates": {
        "title": "Repeated numbers",
        "columns": [("row", "Row"), ("phone", "Phone"), ("first_row", "Kept from row")],
        "count": "duplicate_rows",
        "noun": "repeated numbers",
    },
}


def rows_table(job: ImportJob, kind: str, rows: list[dict[str, Any]]) -> SafeString:
    columns = KINDS[kind]["columns"]
    head = format_html_join("", "<th>{}</th>", ((label,) for _, label in columns))
    body = format_html_join(
        "\n",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((row.get(key),) for key, _ in columns)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def rows_summary(job: ImportJob, kind: str) -> SafeString:
    """The first INLINE rows of a kind on the job's page, with links to all of them (and the errors' CSV)."""
    spec = KINDS[kind]
    kept: list[dict[str, Any]] = getattr(job, kind)
    counted: int = getattr(job, spec["count"])
    if not counted:
        return format_html("{}", "None.")
    links = (
        [format_html('<a href="{}">All {} kept</a>', job_url(job, kind), f"{len(kept):,}")]
        if len(kept) > INLINE
        else []
    )
    if kind == "errors":
        links.append(format_html('<a href="{}">Download as CSV</a>', job_url(job, "errors_csv")))
    note = format_html(
        "<p>{} {}{}. {}</p>",
        f"{counted:,}",
        spec["noun"],
        format_html(" (the first {} are kept)", f"{len(kept):,}") if counted > len(kept) else "",
        format_html_join(" · ", "{}", ((link,) for link in links)),
    )
    return format_html("{}{}", note, rows_table(job, kind, kept[:INLINE]))


def mapping_table(mapping: dict) -> SafeString:
    """How each column of the file was read: the phone, the name, or a {{ variable }} for templates."""
    if not mapping:
        return format_html("{}", "Not read yet.")
    phones = mapping.get("phone", [])
    rows: list[tuple[str, str]] = (
        [(header, f"the phone number, tried {_ordinal(n)}") for n, header in enumerate(phones, start=1)]
        if len(phones) > 1
        else [(header, "the phone number") for header in phones]
    )
    rows += [(header, "the name" if len(mapping.get("name", [])) == 1 else "part of the name")
             for header in mapping.get("name", [])]  # fmt: skip
    rows += [(header, f"{{{{ {variable} }}}}") for header, variable in mapping.get("variables", {}).items()]
    body = format_html_join("", "<tr><td>{}</td><td><code>{}</code></td></tr>", rows)
    ignored = [(header or "(no header)",) for header in mapping.get("ignored", [])]
    body += format_html_join("", "<tr><td>{}</td><td>left out: empty in every row</td></tr>", ignored)
    return format_html(
        "<table><thead><tr><th>Column in the file</th><th>Becomes</th></tr></thead><tbody>{}</tbody></table>", body
    )


def preview_summary(answer: dict) -> str:
    """'A CSV in UTF-8, comma-delimited; the header is on row 3; about 1,200 data rows.'"""
    if answer["file_format"] == "xlsx":
        read = f"An Excel workbook, sheet {answer.get('sheet', '')!r}"
    else:
        delimiter = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(answer.get("delimiter", ""), "?")
        read = f"A CSV in {answer.get('encoding', '?').upper()}, {delimiter}-delimited"
    estimate = answer.get("rows_estimate")
    rows = "an unknown number of data rows" if estimate is None else f"about {estimate:,} data rows"
    return f"{read}; the header is on row {answer.get('header_row')}; {rows}."


def preview_rows_table(rows: list[dict]) -> SafeString:
    """A preview's first rows as they would be imported: the contact each becomes, or its row error."""
    body = []
    for row in rows:
        contact, error = row["contact"], row["error"]
        if contact is None:
            body.append(format_html(
                '<tr><td>{}</td><td colspan="3" class="errornote">{}: {}</td></tr>',
                row["row"], error["column"], error["message"],
            ))  # fmt: skip
            continue
        variables = format_html_join(", ", "{}={}", contact["variables"].items())
        body.append(format_html(
            "<tr><td>{}</td><td>{}<br><small>from {}, {}</small></td><td>{}</td><td>{}</td></tr>",
            row["row"], contact["phone"], contact["phone_column"], contact["line_type"].replace("_", " "),
            contact["name"], variables,
        ))  # fmt: skip
    return format_html(
        "<table><thead><tr><th>Row</th><th>Phone</th><th>Name</th><th>Other columns</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        format_html_join("", "{}", ((line,) for line in body)),
    )


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def line_types_table(job: ImportJob) -> SafeString:
    """The contacts by line type, mobiles first; those a campaign skips unless told to include them are marked."""
    counts = job.line_types or {}
    if not counts:
        return format_html("{}", "Not recorded for this import.")
    rows = [
        (
            label,
            f"{counts[value]:,}",
            "" if value in TEXTABLE else "not mobile: campaigns skip these unless set to include them",
        )
        for value, label in LineType.choices
        if counts.get(value)
    ]
    body = format_html_join("", '<tr><td>{}</td><td style="text-align: right">{}</td><td>{}</td></tr>', rows)
    return format_html("<table><tbody>{}</tbody></table>", body)


def next_steps(job: ImportJob) -> SafeString:
    links = [(f"See its {job.imported_rows:,} contacts", contacts_url(job))]
    links += [link for step in _next_steps if (link := step(job)) is not None]
    return format_html_join(" · ", '<a href="{}">{}</a>', ((url, label) for label, url in links))


def contacts_url(job: ImportJob) -> str:
    return f"{reverse('admin:imports_contact_changelist')}?import_job={job.pk}"
