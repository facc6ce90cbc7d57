from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        # Campaigns hear of the other apps' events here, and tell them what they must respect:
        # imports, messaging and templates never import campaigns.
        from campaigns import admin_display, dashboard, receivers, template_samples
        from campaigns.message_sync import stopped_campaign_messages
        from imports.admin_page import register_next_step
        from imports.signals import import_finished
        from inboxerr.admin_site import Panel, register_panel
        from messaging.dispatcher.claims import hold_back_from_claims
        from messaging.quotas import quota_reached
        from templates.sample_sources import register_sample_source

        import_finished.connect(receivers.import_finished, dispatch_uid="campaigns.import_finished")
        quota_reached.connect(receivers.quota_reached, dispatch_uid="campaigns.quota_reached")
        hold_back_from_claims(stopped_campaign_messages())
        register_next_step(admin_display.new_campaign_from)
        register_sample_source(template_samples.source)
        register_panel(Panel("admin/campaigns/panels/active.html", dashboard.active, order=40))
        register_panel(Panel("admin/campaigns/panels/failures.html", dashboard.failures, order=60, wide=True))
