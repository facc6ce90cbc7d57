from django.apps import AppConfig


class TemplatesConfig(AppConfig):
    """Message templates. Labelled so it is never mistaken for Django's template folders."""

    name = "templates"
    label = "message_templates"
    verbose_name = "Message templates"
