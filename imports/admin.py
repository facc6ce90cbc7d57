from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import AdminForm
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from imports import admin_page, preview, services
from imports.admin_phones import PhoneSearchMixin, phone_from_form, phone_in
from imports.admin_views import ImportUploadForm, PreviewColumnsForm, preview_from_form, progress_line
from imports.models import Contact, ImportJob
from imports.upload import CSVUploadHandler, streaming_upload
from inboxerr.admin import LargeTableAdminMixin, MatchedOncePaginator, ModelAdmin, as_id, chosen_only_filter
from inboxerr.csv_stream import spreadsheet_safe, streamed_csv
from inboxerr.exceptions import Conflict, InboxerrException, TooManyRequests

# How often the page of a PROCESSING import reloads itself.
REFRESH_SECONDS = 2
# A file's own columns shown in its contacts' list; a wider file shows its first ones.
MAX_VARIABLE_COLUMNS = 12
# An import's fields that can hold thousands of entries; a page that only names the import leaves them out.
JOB_BULK = ("errors", "duplicates", "column_mapping")


@admin.register(ImportJob)
class ImportJobAdmin(ModelAdmin):
    list_display = [
        "id",
        "original_filename",
        "owner",
        "status",
        "total_rows",
        "imported_rows",
        "invalid_rows",
        "duplicate_rows",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", ("owner", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["original_filename", "sha256"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["original_filename", "owner", "status", "progress", "failure_reason", "next_steps"]}),
        ("Columns", {"fields": ["columns"]}),
        ("Line types", {"fields": ["line_types_summary"]}),
        ("Row errors", {"fields": ["row_errors"]}),
        ("Repeated numbers", {"fields": ["repeats"]}),
        ("Options", {"fields": ["default_region", "delimiter", "phone_column", "name_column"]}),
        ("File", {"fields": ["size_bytes", "sha256", "encoding", "file_path"], "classes": ["collapse"]}),
        ("Timing", {"fields": ["created_at", "started_at", "heartbeat_at", "finished_at", "attempts"],
                    "classes": ["collapse"]}),
    ]  # fmt: skip
    readonly_fields = ["progress", "next_steps", "columns", "line_types_summary", "row_errors", "repeats"]

    def get_urls(self):
        return [
            *self.page_urls(
                ("upload/", "upload", self.upload_view),
                ("preview/<uuid:preview_id>/", "preview", self.preview_view),
                ("<path:object_id>/cancel/", "cancel", self.cancel_view),
                ("<path:object_id>/errors/", "errors", self.errors_view),
                ("<path:object_id>/errors.csv", "errors_csv", self.errors_csv_view),
                ("<path:object_id>/duplicates/", "duplicates", self.duplicates_view),
            ),
            *super().get_urls(),
        ]

    def choosable(self, queryset):
        return queryset.filter(status=ImportJob.Status.SUCCESS)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name == f"{self.opts.app_label}_{self.opts.model_name}_changelist":
            # The list shows counts: a page of big imports fetched and decoded up to 2,000 kept rows each.
            queryset = queryset.defer(*JOB_BULK)
        return queryset

    @admin.display(description="Contacts by line type")
    def line_types_summary(self, job):
        return admin_page.line_types_table(job)

    def has_change_permission(self, request, obj=None):
        # Jobs change only through the import pipeline, so their page is read-only.
        return False

    def has_cancel_permission(self, request, obj=None):
        return super().has_change_permission(request, obj)

    def add_view(self, request, form_url="", extra_context=None):
        # A job without its file is no job: "Add" goes to the upload form.
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_upload")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.status == ImportJob.Status.PROCESSING:
            context["refresh_seconds"] = REFRESH_SECONDS
            context["can_cancel"] = self.has_cancel_permission(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="Progress")
    def progress(self, job: ImportJob) -> str:
        return progress_line(job)

    @admin.display(description="Next")
    def next_steps(self, job: ImportJob) -> str:
        return admin_page.next_steps(job) if job.status == ImportJob.Status.SUCCESS else "-"

    @admin.display(description="How they were read")
    def columns(self, job: ImportJob) -> str:
        return admin_page.mapping_table(job.column_mapping or {})

    @admin.display(description="Row errors")
    def row_errors(self, job: ImportJob) -> str:
        return admin_page.rows_summary(job, "errors")

    @admin.display(description="Repeats")
    def repeats(self, job: ImportJob) -> str:
        return admin_page.rows_summary(job, "duplicates")

    def errors_view(self, request, object_id):
        return self._rows_view(request, object_id, "errors")

    def duplicates_view(self, request, object_id):
        return self._rows_view(request, object_id, "duplicates")

    def _rows_view(self, request, object_id, kind: str):
        """All the kept row errors or repeats of a job, PER_PAGE at a time."""
        job = self._viewable_job(request, object_id)
        spec = admin_page.KINDS[kind]
        page = Paginator(getattr(job, kind), admin_page.PER_PAGE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": job,
            "title": f"{spec['title']}: {job.original_filename}",
            "page": page,
            "table": admin_page.rows_table(job, kind, list(page.object_list)),
            "csv_url": admin_page.job_url(job, "errors_csv") if kind == "errors" else "",
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/imports/importjob/rows.html", context)

    def errors_csv_view(self, request, object_id):
        """The kept row errors as CSV, the same as the API's errors/csv."""
        job = self._viewable_job(request, object_id)
        rows = ([spreadsheet_safe(error.get(key)) for key in ("row", "column", "message")] for error in job.errors)
        return streamed_csv(f"import-{job.pk}-errors.csv", ["row", "column", "message"], rows)

    def _viewable_job(self, request, object_id) -> ImportJob:
        job = self.get_object(request, unquote(object_id))
        if job is None:
            raise Http404(f"No import with id {object_id}.")
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        return job

    @method_decorator(csrf_exempt)
    def upload_view(self, request):
        """Stream the body through CSVUploadHandler alone; the CSRF check follows, since it reads the body.

        Whatever goes wrong, a file no job claimed is deleted.
        """
        with streaming_upload(request) as handler:
            return self._upload_view(request, handler)

    @method_decorator(csrf_protect)
    def _upload_view(self, request, handler: CSVUploadHandler | None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if handler is None:  # not a POST
            return self._upload_form(request, ImportUploadForm())
        form = ImportUploadForm(request.POST, request.FILES)
        try:
            kept = preview_from_form(owner_id=request.user.pk, handler=handler, form=form)
        except InboxerrException as error:
            return self._refused(error, self._upload_form(request, ImportUploadForm(initial=request.POST), error))
        if kept is None:
            return self._upload_form(request, form, status=400)
        return redirect(self._preview_url(kept.pk))

    @method_decorator(csrf_protect)
    def preview_view(self, request, preview_id):
        """What the import would make of the uploaded file; staff change the columns, then import or discard it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        try:
            kept = preview.preview_get(owner_id=request.user.pk, preview_id=preview_id)
        except InboxerrException as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(reverse("admin:imports_importjob_upload"))
        answer = preview.preview_read(kept)
        if request.method != "POST":
            return self._preview_page(request, answer, PreviewColumnsForm(initial=kept.options, answer=answer))
        form = PreviewColumnsForm(request.POST, answer=answer)
        if not form.is_valid():
            return self._preview_page(request, answer, form, status=400)
        if "discard" in request.POST:
            preview.preview_discard(preview=kept)
            self.message_user(request, f"{kept.original_filename} is discarded; nothing was imported.")
            return redirect(reverse("admin:imports_importjob_changelist"))
        if "import" not in request.POST:  # read it again with the columns chosen
            preview.preview_again(preview=kept, **form.cleaned_data)
            return redirect(self._preview_url(kept.pk))
        try:
            job = preview.import_from_preview(owner_id=request.user.pk, preview_id=kept.pk, **form.cleaned_data)
        except InboxerrException as error:
            return self._refused(error, self._preview_page(request, answer, form, error))
        self.message_user(request, f"{job.original_filename} is uploaded; its import is processing.", messages.SUCCESS)
        return redirect(self._change_url(job))

    def _preview_page(self, request, answer: dict, form, error: InboxerrException | None = None, status: int = 200):
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview of {answer['original_filename']}",
            "opts": self.opts,
            "answer": answer,
            "summary": admin_page.preview_summary(answer),
            "mapping": admin_page.mapping_table(answer.get("column_mapping") or {}),
            "rows": admin_page.preview_rows_table(answer["rows"]),
            "form": form,
            "adminform": AdminForm(form, [(None, {"fields": list(form.fields)})], {}),
            "error": error,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/imports/importjob/preview.html", context, status=status)

    @staticmethod
    def _refused(error: InboxerrException, response):
        response.status_code = error.status_code
        if isinstance(error, TooManyRequests):
            response["Retry-After"] = str(error.retry_after)
        return response

    def _preview_url(self, preview_id) -> str:
        return reverse("admin:imports_importjob_preview", args=[preview_id])

    def _upload_form(self, request, form, error: InboxerrException | None = None, status: int = 200):
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a contact file",
            "opts": self.opts,
            "form": form,
            "adminform": AdminForm(form, [(None, {"fields": list(form.fields)})], {}),
            "error": error,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/imports/importjob/upload.html", context, status=status)

    @method_decorator(require_POST)
    def cancel_view(self, request, object_id):
        job = self.get_object(request, unquote(object_id))
        if job is None:
            raise Http404(f"No import with id {object_id}.")
        if not self.has_cancel_permission(request, job):
            raise PermissionDenied
        try:
            services.import_cancel(job=job)
        except Conflict as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, f"The import of {job.original_filename} is cancelled.", messages.SUCCESS)
        return redirect(self._change_url(job))

    def _change_url(self, job: ImportJob) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[job.pk])


class ContactForm(forms.ModelForm):
    """The phone as typed, read in the contact's import's region (as its file was)."""

    phone = forms.CharField(max_length=64, help_text="Any format; national numbers in the import's region.")

    class Meta:
        model = Contact
        fields = ["import_job", "phone", "name", "variables", "row_number"]

    def clean_phone(self) -> str:
        job = self.cleaned_data.get("import_job")
        return phone_from_form(self.cleaned_data["phone"], job.default_region if job else "")


def _variable_column(header: str, name: str):
    @admin.display(description=header)
    def column(contact: Contact) -> str:
        return contact.variables.get(name, "")

    column.__name__ = f"variable_{name}"
    return column


@admin.register(Contact)
class ContactAdmin(PhoneSearchMixin, LargeTableAdminMixin, ModelAdmin):
    form = ContactForm
    list_display = ["phone", "name", "import_job", "owner", "row_number"]
    list_filter = [chosen_only_filter("import_job", "import")]
    search_fields = ["phone__exact", "name"]
    search_help_text = "A phone number in any format, or a name; in one import's list, also any of its columns."
    list_select_related = ["owner", "import_job"]
    raw_id_fields = ["import_job"]
    # A contact belongs to whoever owns its import, never to anyone else.
    fields = ["import_job", "phone", "phone_column", "name", "variables", "row_number", "owner"]
    readonly_fields = ["owner", "phone_column"]

    def get_queryset(self, request):
        # A row names its import, joined (list_select_related) without the import's kept row errors, repeats
        # and column mapping: up to 1,000 of each, which every row of a big import's list fetched and decoded.
        return super().get_queryset(request).defer(*(f"import_job__{name}" for name in JOB_BULK))

    def get_sortable_by(self, request):
        # By phone within one import, on its (import, phone) index; otherwise only in the default order (by id):
        # sorting a million contacts by another column read them all.
        return ["phone"] if as_id(request.GET.get("import_job", "")) is not None else []

    def get_list_display(self, request):
        """Narrowed to one import (its page's link), the list shows that file's own columns."""
        job = self._chosen_import(request)
        if job is None:
            return self.list_display
        variables = list(job.column_mapping.get("variables", {}).items())[:MAX_VARIABLE_COLUMNS]
        # A file with several phone columns (mobile, home, work): which one each number came from.
        source = ["phone_column"] if len(job.column_mapping.get("phone", [])) > 1 else []
        return ["phone", *source, "name", *(_variable_column(header, name) for header, name in variables), "row_number"]

    def get_search_results(self, request, queryset, search_term):
        """Narrowed to one import, a word that is not a phone number also finds contacts by any of the file's
        own columns (an order number, a city), in part and in any case. Only there: it reads the import's
        contacts one by one, which one import's list can afford and a search over every contact could not."""
        job = self._chosen_import(request)
        term = search_term.strip()
        if job is None or not term or phone_in(term) is not None:
            return super().get_search_results(request, queryset, search_term)
        found = Q(name__icontains=term)
        for name in job.column_mapping.get("variables", {}).values():
            found |= Q(**{f"variables__{name}__icontains": term})
        return queryset.filter(found), False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # A word searched among one import's columns reads the import's contacts: once, not once for the
        # count and again for the page.
        if self._searches_columns(request):
            return MatchedOncePaginator(queryset, per_page, orphans, allow_empty_first_page)
        return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)

    def _searches_columns(self, request) -> bool:
        term = request.GET.get("q", "").strip()
        return bool(term) and self._chosen_import(request) is not None and phone_in(term) is None

    def _chosen_import(self, request) -> ImportJob | None:
        # Read once per request: the list's columns and its search both ask.
        if not hasattr(request, "_chosen_import"):
            job_id = as_id(request.GET.get("import_job", ""))
            job = ImportJob.objects.filter(pk=job_id).only("column_mapping").first() if job_id is not None else None
            request._chosen_import = job
        return request._chosen_import

    def save_model(self, request, obj, form, change):
        obj.owner_id = obj.import_job.owner_id
        super().save_model(request, obj, form, change)
