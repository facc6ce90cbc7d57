from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseNotAllowed, JsonResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from inboxerr.admin import ModelAdmin, as_id
from inboxerr.exceptions import InboxerrException
from templates import services
from templates.live_preview import preview_answer
from templates.models import MessageTemplate
from templates.preview import sample_preview
from templates.renderer import TemplateSyntaxError

EDITABLE = ["name", "content", "description", "is_active"]

# Where the live preview takes its values from; preview.js shows these once it runs (unnamed: never saved).
PREVIEW_SOURCES = mark_safe(
    '<div class="template-preview-sources" hidden>'
    '<label><span>Values from</span><select class="template-preview-import"><option value="">no import</option>'
    "</select></label>"
    "<label><span>Values typed in, over the import's: one <code>name=value</code> a line, or a JSON object</span>"
    '<textarea class="template-preview-typed vLargeTextField" rows="3" spellcheck="false"'
    ' placeholder="name=Ann"></textarea></label>'
    "</div>"
)


class MessageTemplateForm(forms.ModelForm):
    """The checks the services make, run as form validation so that errors show beside their field."""

    class Meta:
        model = MessageTemplate
        fields = ["owner", *EDITABLE]

    class Media:
        # The preview under the content, updated as it is typed.
        js = ["message_templates/preview.js"]
        css = {"all": ["message_templates/preview.css"]}

    def clean_content(self) -> str:
        # Browsers send textarea line breaks as CRLF; in an SMS the CR would cost a character.
        content = self.cleaned_data["content"].replace("\r\n", "\n")
        try:
            services.template_variables(content=content)
        except InboxerrException as error:
            raise forms.ValidationError(error.message) from None
        return content

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        owner = cleaned.get("owner") if self.instance.pk is None else self.instance.owner
        if owner and cleaned.get("name"):
            try:
                services.template_check_name(owner_id=owner.pk, name=cleaned["name"], exclude_pk=self.instance.pk)
            except services.TemplateFieldError as error:
                self.add_error("name", error.details["name"])
        return cleaned


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ModelAdmin):
    form = MessageTemplateForm
    list_display = ["name", "owner", "is_active", "variables", "updated_at"]
    list_filter = ["is_active", ("owner", admin.RelatedOnlyFieldListFilter), "updated_at"]
    search_fields = ["name", "content"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]
    fieldsets = [
        (None, {"fields": ["owner", "name", "content", "preview", "description", "is_active"]}),
        ("Saved", {"fields": ["variables", "created_at", "updated_at"]}),
    ]
    readonly_fields = ["preview", "variables", "created_at", "updated_at"]

    def choosable(self, queryset):
        return queryset.filter(is_active=True)

    def get_readonly_fields(self, request, obj=None):
        # A template's campaigns belong to its owner, so it stays with that owner.
        return [*self.readonly_fields, "owner"] if obj else self.readonly_fields

    def get_urls(self) -> list[Any]:
        return [*self.page_urls(("preview/", "preview", self.preview_view)), *super().get_urls()]

    def preview_view(self, request: HttpRequest) -> HttpResponseBase:
        """The live preview of the content being typed, as JSON (templates.live_preview). POST `content`,
        `template` (a saved one's id) or `owner` (the add form's), and optionally `import` and `values`."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        answer = preview_answer(
            content=request.POST.get("content", ""),
            owner_id=self._preview_owner(request),
            # A contact's values are for staff who may read contacts.
            import_id=request.POST.get("import", "") if request.user.has_perm("imports.view_contact") else "",
            typed=request.POST.get("values", ""),
        )
        return JsonResponse(answer)

    def _preview_owner(self, request: HttpRequest) -> int | None:
        """Whose imports may give sample values: a saved template's owner (a template keeps its owner), or on
        the add form the owner chosen so far (None until one is)."""
        if "template" in request.POST:
            template_id = as_id(request.POST["template"])
            template = self.get_object(request, str(template_id)) if template_id is not None else None
            if template is None:
                raise Http404("No such template.")
            if not self.has_view_or_change_permission(request, template):
                raise PermissionDenied
            return template.owner_id
        if not self.has_add_permission(request):
            raise PermissionDenied
        return as_id(request.POST.get("owner", "").strip())

    @admin.display(description="Preview")
    def preview(self, template: MessageTemplate) -> SafeString:
        """The box preview.js fills while the content is typed. A saved template's starts with its saved content
        (`<name>` for each value), which is all a browser without JavaScript shows."""
        return format_html(
            '<div class="template-preview" data-url="{}" data-template="{}">{}'
            '<div class="template-preview-output" aria-live="polite">{}</div></div>',
            reverse(f"{self.admin_site.name}:message_templates_messagetemplate_preview"),
            template.pk or "",
            PREVIEW_SOURCES,
            self._saved_preview(template),
        )

    def _saved_preview(self, template: MessageTemplate) -> SafeString:
        if template.pk is None:
            return mark_safe('<div class="template-preview-text"></div><p class="template-preview-counts"></p>')
        try:
            result = sample_preview(content=template.content)
        except TemplateSyntaxError as error:
            return format_html('<p class="template-preview-note">The saved content is malformed: {}</p>', error.message)
        return format_html(
            '<div class="template-preview-text">{}</div>'
            '<p class="template-preview-counts">{} · {} characters · {} units · {} part{}</p>',
            result.rendered,
            result.encoding,
            result.characters,
            result.units,
            result.parts,
            "" if result.parts == 1 else "s",
        )

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        if change:
            services.template_update(template=obj, **fields)
            return
        created = services.template_create(owner_id=obj.owner_id, **fields)
        # The admin goes on with `obj` (history entry, redirect): make it the saved row.
        obj.pk = created.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.template_delete(template=obj)

    def delete_queryset(self, request, queryset):
        for template in queryset:
            services.template_delete(template=template)
