"""The README's import rule, checked on the source: templates and imports import no other app, messaging
may import templates and imports, campaigns may import those three, inboxerr/ only in urls.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("inboxerr", "templates", "imports", "messaging", "campaigns")
MAY_IMPORT = {
    "inboxerr": set(),
    "templates": {"inboxerr"},
    "imports": {"inboxerr"},
    "messaging": {"inboxerr", "templates", "imports"},
    "campaigns": {"inboxerr", "templates", "imports", "messaging"},
}
# The URL map is where the project meets its apps.
EXEMPT = {Path("inboxerr/urls.py")}


def source_files(app: str) -> list[Path]:
    """The app's code: not its tests (which may build other apps' objects) nor its migrations."""
    return [
        path.relative_to(ROOT)
        for path in sorted((ROOT / app).rglob("*.py"))
        if not {"tests", "migrations"} & set(path.relative_to(ROOT).parts)
    ]


def imported_apps(path: Path, root: Path = ROOT) -> set[str]:
    """Our apps that a file imports, anywhere in it (a function-level import counts too)."""
    found = set()
    for node in ast.walk(ast.parse((root / path).read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & set(APPS)
    return found


@pytest.mark.parametrize("app", APPS)
def test_each_app_imports_only_what_the_rule_allows(app):
    files = source_files(app)
    broken = {
        str(path): sorted(imported - MAY_IMPORT[app] - {app})
        for path in files
        if path not in EXEMPT and (imported := imported_apps(path)) - MAY_IMPORT[app] - {app}
    }

    assert files, f"no source found for {app}"
    assert broken == {}


def test_the_check_sees_an_import_that_breaks_the_rule(tmp_path):
    """The check itself: a messaging module importing campaigns, even inside a function, is caught."""
    module = tmp_path / "messaging" / "sneaky.py"
    module.parent.mkdir()
    module.write_text("import campaigns\n\ndef f():\n    from campaigns.models import Campaign\n    return Campaign\n")

    assert imported_apps(Path("messaging/sneaky.py"), root=tmp_path) == {"campaigns"}
