"""The template admin: a preview of the saved content, and no malformed template saved."""

from __future__ import annotations

from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from campaigns.models import Campaign
from templates.models import MessageTemplate
from templates.tests.factories import MessageTemplateFactory

ADD_URL = reverse("admin:message_templates_messagetemplate_add")


def change_url(template) -> str:
    return reverse("admin:message_templates_messagetemplate_change", args=[template.pk])


def form(**fields) -> dict:
    return {"name": "Shipping", "content": "Hi {{ name }}", "description": "", "is_active": "on", **fields}


def test_the_change_page_previews_the_content_with_sample_values(staff_client, user):
    template = MessageTemplateFactory(
        owner=user, content='Hi {{ name|default:"there" }}, order {{ order_no }} ships to {{ city }}.'
    )

    response = staff_client.get(change_url(template))

    assertContains(response, "Hi there, order &lt;order_no&gt; ships to &lt;city&gt;.")
    assertContains(response, "GSM-7 · 43 characters · 43 units · 1 part<")


def test_the_preview_counts_parts_of_a_long_unicode_text(staff_client, user):
    template = MessageTemplateFactory(owner=user, content="Привет {{ name }}! " + "ж" * 60)

    response = staff_client.get(change_url(template))

    assertContains(response, "UCS-2 · 75 characters · 75 units · 2 parts")


def test_adding_a_template_from_the_admin_derives_its_variables(staff_client, user):
    response = staff_client.post(ADD_URL, form(owner=user.pk, content="Hi {{ name }},\r\norder {{ order_no }}"))

    template = MessageTemplate.objects.get()
    assertRedirects(response, reverse("admin:message_templates_messagetemplate_changelist"))
    assert (template.owner, template.variables) == (user, ["name", "order_no"])
    # Browsers send CRLF; the text keeps one character per line break.
    assert template.content == "Hi {{ name }},\norder {{ order_no }}"


def test_editing_the_content_in_the_admin_keeps_the_variables_in_step(staff_client, user):
    template = MessageTemplateFactory(owner=user, content="{{ a }}")

    staff_client.post(change_url(template), form(name=template.name, content="{{ b }} {{ c }}"))

    template.refresh_from_db()
    assert (template.content, template.variables) == ("{{ b }} {{ c }}", ["b", "c"])


def test_a_malformed_template_cannot_be_saved_from_the_admin(staff_client, user):
    template = MessageTemplateFactory(owner=user, content="{{ a }}")

    response = staff_client.post(change_url(template), form(name=template.name, content="Hi {{ name|upper }}"))

    assert response.status_code == 200
    assertContains(response, "Unknown filter &quot;upper&quot; (only default is supported) at line 1, column 12.")
    template.refresh_from_db()
    assert template.content == "{{ a }}"


def test_a_name_the_owner_already_uses_is_refused_beside_the_name(staff_client, user):
    MessageTemplateFactory(owner=user, name="Welcome")
    other = MessageTemplateFactory(owner=user, name="Other")

    added = staff_client.post(ADD_URL, form(owner=user.pk, name="Welcome"))
    renamed = staff_client.post(change_url(other), form(name="Welcome"))

    for response in (added, renamed):
        assert response.status_code == 200
        assertContains(response, "You already have a template named &quot;Welcome&quot;.")
    assert MessageTemplate.objects.filter(name="Welcome").count() == 1


def test_the_admin_refuses_to_delete_a_template_in_use(staff_client, user):
    template = MessageTemplateFactory(owner=user)
    Campaign.objects.create(owner=user, name="Spring", template=template, message_content="")

    response = staff_client.post(
        reverse("admin:message_templates_messagetemplate_delete", args=[template.pk]), {"post": "yes"}
    )

    assert response.status_code == 200
    assert MessageTemplate.objects.filter(pk=template.pk).exists()


def test_the_admin_deletes_a_template_not_in_use(staff_client, user):
    template = MessageTemplateFactory(owner=user)

    staff_client.post(reverse("admin:message_templates_messagetemplate_delete", args=[template.pk]), {"post": "yes"})

    assert not MessageTemplate.objects.exists()


def test_the_add_page_has_an_empty_preview_for_its_script_to_fill(staff_client):
    response = staff_client.get(ADD_URL)

    assertContains(
        response, '<div class="template-preview-output" aria-live="polite"><div class="template-preview-text">'
    )
