"""Tasks are queued by their function; the only task names kept as text are django-q2's schedules,
and each of those resolves to a function."""

from __future__ import annotations

import ast
import pydoc

from django_q.models import Schedule

from inboxerr.tests.test_import_rule import APPS, ROOT, source_files


def test_every_schedule_names_a_function_that_exists(db):
    schedules = list(Schedule.objects.values_list("name", "func"))

    assert schedules, "the migrations create the schedules"
    assert {name: func for name, func in schedules if not callable(pydoc.locate(func))} == {}


def test_no_task_is_queued_by_a_dotted_path():
    by_path = []
    for app in APPS:
        for path in source_files(app):
            for node in ast.walk(ast.parse((ROOT / path).read_text())):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", "")) in {"async_task", "schedule"}
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    by_path.append(f"{path}:{node.lineno}")

    assert by_path == []
