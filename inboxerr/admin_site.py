"""The admin site staff work in: a dashboard for its index, our work first, internals under "Operations".

The apps fill the dashboard: each registers its panels (a template and what it shows) in its AppConfig.ready,
so this module knows none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse

# Other projects' tables an operator looks at when something is wrong, not in daily work.
OPERATIONS_APPS = frozenset({"django_q", "axes"})
OPERATIONS = "operations"


@dataclass(frozen=True)
class Panel:
    """One box of the dashboard: `template` drawn with what `context(request)` returns. Lower `order` first."""

    template: str
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int = 100
    wide: bool = False  # across the whole page rather than one column


_panels: list[Panel] = []


def register_panel(panel: Panel) -> None:
    if panel not in _panels:
        _panels.append(panel)
        _panels.sort(key=lambda p: p.order)


def is_operations(model_admin: admin.ModelAdmin[Any]) -> bool:
    """Internals: another project's queue or lockout tables, or a page of ours that says it is one."""
    return model_admin.opts.app_label in OPERATIONS_APPS or getattr(model_admin, "operations", False)


class InboxerrAdminSite(admin.AdminSite):
    site_header = "Inboxerr"
    site_title = "Inboxerr"
    index_title = "Dashboard"
    index_template = "admin/inboxerr/dashboard.html"
    site_url = None  # there is no public site; "/" leads here

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        panels = [(panel, panel.context(request)) for panel in _panels]
        return super().index(request, {"panels": panels, **(extra_context or {})})

    def get_urls(self) -> list[URLResolver | URLPattern]:
        operations = path(f"{OPERATIONS}/", self.admin_view(self.operations_index), name=OPERATIONS)
        return [operations, *super().get_urls()]

    def operations_index(self, request: HttpRequest) -> HttpResponse:
        group = [app for app in self.get_app_list(request) if app["app_label"] == OPERATIONS]
        context = {**self.each_context(request), "title": "Operations", "app_list": group, "app_label": OPERATIONS}
        request.current_app = self.name
        return TemplateResponse(request, "admin/app_index.html", context)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        """The admin's list (index and sidebar), with every internal page moved into one Operations group that
        only superusers see; anyone else with permission still reaches the pages, and one app's own page
        (a breadcrumb's link) still lists all of its models."""
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list
        internal = {model._meta.label for model, model_admin in self._registry.items() if is_operations(model_admin)}
        group: list[dict[str, Any]] = []
        for app in app_list:
            group += [entry for entry in app["models"] if entry["model"]._meta.label in internal]
            app["models"] = [entry for entry in app["models"] if entry["model"]._meta.label not in internal]
        app_list = [app for app in app_list if app["models"]]
        if group and request.user.is_superuser:
            group.sort(key=lambda entry: entry["name"])
            app_list.append(
                {
                    "name": "Operations",
                    "app_label": OPERATIONS,
                    "app_url": reverse(f"{self.name}:{OPERATIONS}", current_app=self.name),
                    "has_module_perms": True,
                    "models": group,
                }
            )
        return app_list
