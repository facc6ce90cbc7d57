from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from inboxerr.admin import ModelAdmin
from inboxerr.exceptions import InboxerrException
from templates import services
from templates.models import MessageTemplate
from templates.preview import sample_preview
from templates.renderer import TemplateSyntaxError

EDITABLE = ["name", "content", "description", "is_active"]


class MessageTemplateForm(forms.ModelForm):
    """The checks the services make, run as form validation so that errors show beside their field."""

    class Meta:
        model = MessageTemplate
        fields = ["owner", *EDITABLE]

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
    raw_id_fields = ["owner"]
    fieldsets = [
        (None, {"fields": ["owner", *EDITABLE]}),
        ("Preview of the saved content", {"fields": ["preview", "variables"]}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = ["preview", "variables", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # A template's campaigns belong to its owner, so it stays with that owner.
        return [*self.readonly_fields, "owner"] if obj else self.readonly_fields

    @admin.display(description="Preview")
    def preview(self, template: MessageTemplate) -> str:
        if template.pk is None:
            return "Save the template to see a preview."
        try:
            result = sample_preview(content=template.content)
        except TemplateSyntaxError as error:
            return f"The saved content is malformed: {error.message}"
        return format_html(
            '<div class="readonly" style="white-space: pre-wrap">{}</div>'
            "<p>{} · {} characters · {} units · {} part{}</p>",
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
