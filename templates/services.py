"""Message templates: create, update, delete. Each write compiles the content and keeps `variables` in step."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from inboxerr.exceptions import Conflict, InboxerrException
from templates.limits import check_literal_text
from templates.models import MessageTemplate
from templates.renderer import compile_template

UPDATABLE_FIELDS = frozenset({"name", "content", "description", "is_active"})


class TemplateFieldError(InboxerrException):
    """A 400 naming one field, in the body shape of the API's own validation errors."""

    code = "invalid"

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"Invalid input: {field}.", details={field: [message]})


def template_check_name(*, owner_id: int, name: str, exclude_pk: int | None = None) -> None:
    """Refuse a blank name, or one the owner already gives another template."""
    if not name.strip():
        raise TemplateFieldError("name", "A template needs a name.")
    taken = MessageTemplate.objects.filter(owner_id=owner_id, name=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise TemplateFieldError("name", f'You already have a template named "{name}".')


def template_variables(*, content: str) -> list[str]:
    """The variables of valid content; TemplateSyntaxError (400, naming the position) otherwise."""
    if not content.strip():
        raise TemplateFieldError("content", "A template needs some text.")
    compiled = compile_template(content)
    check_literal_text(compiled, field="content")
    return compiled.variables


@transaction.atomic
def template_create(
    *, owner_id: int, name: str, content: str, description: str = "", is_active: bool = True
) -> MessageTemplate:
    variables = template_variables(content=content)
    template_check_name(owner_id=owner_id, name=name)
    template = MessageTemplate(
        owner_id=owner_id, name=name, content=content, description=description, is_active=is_active, variables=variables
    )
    _save(template)
    return template


@transaction.atomic
def template_update(*, template: MessageTemplate, **fields: Any) -> MessageTemplate:
    """Change any of name, content, description and is_active."""
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise TypeError(f"template_update() cannot change {', '.join(sorted(unknown))}")
    if "content" in fields:
        fields["variables"] = template_variables(content=fields["content"])
    if "name" in fields:
        template_check_name(owner_id=template.owner_id, name=fields["name"], exclude_pk=template.pk)
    for field, value in fields.items():
        setattr(template, field, value)
    _save(template, update_fields=[*fields, "updated_at"])
    return template


@transaction.atomic
def template_delete(*, template: MessageTemplate) -> None:
    """Delete a template no campaign uses; one in use can only be deactivated (409)."""
    # FOR UPDATE waits for a campaign being created on this template to commit, so the
    # check below sees it instead of the database refusing the delete at commit.
    MessageTemplate.objects.select_for_update().filter(pk=template.pk).exists()
    try:
        template.delete()
    except ProtectedError:
        used_by = template.campaigns.count()
        raise Conflict(
            f'The template "{template.name}" is used by {used_by} campaign(s), so it cannot be deleted. '
            "You can deactivate it instead (is_active: false).",
            details={"campaigns": used_by},
        ) from None


def _save(template: MessageTemplate, update_fields: list[str] | None = None) -> None:
    # Another request may take the name between the check and the write: the same 400 then.
    try:
        with transaction.atomic():
            template.save(update_fields=update_fields)
    except IntegrityError:
        template_check_name(owner_id=template.owner_id, name=template.name, exclude_pk=template.pk)
        raise
