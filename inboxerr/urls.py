"""URL map. The only place in inboxerr/ that imports the apps."""

from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from campaigns.api import CampaignViewSet
from imports.api import ImportJobViewSet
from inboxerr.api import OptionalSlashRouter
from inboxerr.auth import LogoutAllView, LogoutView, MeView, TokenCreateView, TokenViewSet
from inboxerr.health import healthz
from inboxerr.login_lockout import LockoutAdminAuthenticationForm, LockoutAuthenticationForm
from inboxerr.metrics_view import MetricsView
from messaging.api import AndroidWebhookView, MessageViewSet, OptOutViewSet, TaskViewSet, TwilioWebhookView
from messaging.inbox_api import ConversationView, InboxSettingsView, InboxViewSet
from messaging.outbound.api import WebhookEndpointViewSet
from messaging.privacy_api import PrivacyEraseView, PrivacyExportView
from messaging.usage_api import UsageView
from templates.api import MessageTemplateViewSet

admin.site.login_form = LockoutAdminAuthenticationForm


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask every site for /favicon.ico. Its static name is read per request: with hashed names
    it is known only once collectstatic has run, which must not stop the URL map from loading."""
    return HttpResponsePermanentRedirect(static("inboxerr/favicon.svg"))


router = OptionalSlashRouter()
router.register("templates", MessageTemplateViewSet, basename="template")
router.register("imports", ImportJobViewSet, basename="import")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("messages", MessageViewSet, basename="message")
router.register("tasks", TaskViewSet, basename="task")
router.register("opt-outs", OptOutViewSet, basename="opt-out")
router.register("inbox", InboxViewSet, basename="inbox")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("auth/tokens", TokenViewSet, basename="auth-token")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),  # staff start at the dashboard
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token", TokenCreateView.as_view(), name="auth-token"),
    path("api/v1/auth/me", MeView.as_view(), name="auth-me"),
    path("api/v1/auth/logout", LogoutView.as_view(), name="auth-logout"),
    path("api/v1/auth/logout-all", LogoutAllView.as_view(), name="auth-logout-all"),
    path("api/v1/conversations/<str:phone>", ConversationView.as_view(), name="conversation"),
    path("api/v1/inbox-settings", InboxSettingsView.as_view(), name="inbox-settings"),
    path("api/v1/privacy/erase", PrivacyEraseView.as_view(), name="privacy-erase"),
    path("api/v1/privacy/export", PrivacyExportView.as_view(), name="privacy-export"),
    path("api/v1/usage", UsageView.as_view(), name="usage"),
    path("api/v1/webhooks/android", AndroidWebhookView.as_view(), name="webhook-android"),
    path("api/v1/webhooks/twilio", TwilioWebhookView.as_view(), name="webhook-twilio"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split: Swagger UI's start-up script comes from ?script, not inline, so the CSP can forbid inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    # Ahead of rest_framework.urls, which would log in with Django's plain form.
    path(
        "api-auth/login/",
        LoginView.as_view(template_name="rest_framework/login.html", authentication_form=LockoutAuthenticationForm),
    ),
    path("api-auth/", include("rest_framework.urls")),
    path("healthz", healthz, name="healthz"),
    path("metrics", MetricsView.as_view(), name="metrics"),
]

handler404 = "inboxerr.exceptions.json_404"
handler500 = "inboxerr.exceptions.json_500"
