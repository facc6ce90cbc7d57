"""Settings, read from the environment.

With no configuration at all Inboxerr runs on SQLite with DEBUG on. Production
sets DEBUG=false, a real SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL; every
variable is listed in the README.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
if not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "DEBUG is off: set SECRET_KEY to a random string of at least 50 characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Prometheus multiprocess mode: every process writes its samples here (see inboxerr/metrics.py).
PROMETHEUS_MULTIPROC_DIR = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", str(env.path("PROMETHEUS_MULTIPROC_DIR", default=BASE_DIR / "var" / "prometheus"))
)
os.makedirs(PROMETHEUS_MULTIPROC_DIR, exist_ok=True)

INSTALLED_APPS = [
    "inboxerr.apps.InboxerrAdminConfig",  # django.contrib.admin, with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Before django_q: its `qcluster` command is ours (inboxerr/management/commands/qcluster.py).
    "inboxerr",
    "django_q",
    "axes",
    "csp",
    "templates.apps.TemplatesConfig",
    "imports",
    "campaigns",
    "messaging",
]

MIDDLEWARE = [
    # Header-only middleware first, so WhiteNoise's static files get the headers too.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Serves the admin's and Swagger UI's static files from gunicorn, compressed and cached.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Turns axes' own lockout signal into a response; ours are answered by the login forms instead.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "inboxerr.urls"
WSGI_APPLICATION = "inboxerr.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

SILENCED_SYSTEM_CHECKS: list[str] = []
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker processes write to one file: WAL lets readers go on while
    # one writes, IMMEDIATE takes the write lock at BEGIN (so a transaction never
    # fails half-way on upgrade), and the busy timeout makes writers queue.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
    # SQLite ignores an index's INCLUDE columns (the campaign stats index still serves, from the table).
    SILENCED_SYSTEM_CHECKS.append("models.W040")
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # Drop a connection that died (PostgreSQL restarted) instead of failing the next request with it.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and task queue ---------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    # Shared between processes: throttling and rate limits hold across nodes.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    if DEBUG:
        # Each process then counts login failures on its own: fine to try Inboxerr on one machine,
        # and left for `check --deploy` to say in production (axes.W001).
        SILENCED_SYSTEM_CHECKS.append("axes.W001")

Q_CLUSTER = {
    # Q_CLUSTER_NAME is django-q2's own variable; read here too, because django-q2 fails at start-up
    # (KeyError: ALT_CLUSTERS) when it differs from this name. Nodes sharing a Redis need their own.
    "name": env.str("Q_CLUSTER_NAME", default="inboxerr"),
    # Three: with SMS_DISPATCHERS' default of two sending, one worker stays free for imports and fan-outs.
    "workers": env.int("Q_WORKERS", default=3),
    # A task is killed after `timeout`; the broker hands an unacknowledged task out
    # again after `retry`, which therefore must exceed the timeout. Tasks are safe
    # to run twice: the database rows, not the queue, hold the truth.
    "timeout": env.int("Q_TIMEOUT", default=1800),
    "retry": env.int("Q_RETRY", default=1900),
    "max_attempts": 3,
    # A node takes a task from the broker only when a worker is about to be free: a busy node hoarding
    # long dispatch tasks would leave another node idle, and what a killed node held in memory is lost.
    "queue_limit": env.int("Q_QUEUE_LIMIT", default=1),
    "catch_up": False,
    # Workers may start processes of their own (the import parser's phone-number workers).
    "daemonize_workers": False,
    "save_limit": 1000,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Auth and API -----------------------------------------------------------

# Django's password check, refused for a while to a username or address that failed too often
# (django-axes, counting in the cache; see inboxerr/login_lockout.py).
AUTHENTICATION_BACKENDS = ["inboxerr.login_lockout.LockoutBackend"]
LOGIN_THROTTLE_FAILURES = env.int("LOGIN_THROTTLE_FAILURES", default=5)  # 0: never lock
LOGIN_THROTTLE_WINDOW_SECONDS = env.int("LOGIN_THROTTLE_WINDOW_SECONDS", default=15 * 60)
AXES_HANDLER = "inboxerr.login_lockout.LockoutHandler"
# A username from one address, and an address over all usernames; never a username alone.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "inboxerr.login_lockout.username_key"
AXES_CLIENT_IP_CALLABLE = "inboxerr.addresses.client_address"
# Read at every login, so the LOGIN_THROTTLE_* settings hold even when changed at run time.
AXES_FAILURE_LIMIT = "inboxerr.login_lockout.failure_limit"
AXES_COOLOFF_TIME = "inboxerr.login_lockout.window"
# The counts are in the cache; axes' database tables stay empty, so their admin pages are left out.
AXES_ENABLE_ADMIN = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Proxies in front of Inboxerr that append the client's address to X-Forwarded-For, and the addresses
# they connect from: only a request from one of those is believed about its client (inboxerr/addresses.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Loopback, and the network compose.yaml gives its containers.
TRUSTED_PROXY_ADDRESSES = env.list("TRUSTED_PROXY_ADDRESSES", default=["127.0.0.0/8", "::1", "172.30.0.0/24"])

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "inboxerr.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "inboxerr.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "inboxerr.schema.AutoSchema",
    "EXCEPTION_HANDLER": "inboxerr.exceptions.api_exception_handler",
    # DRF's parsers with our JSON one, which keeps to DATA_UPLOAD_MAX_MEMORY_SIZE (inboxerr/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "inboxerr.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"auth": env.str("AUTH_THROTTLE_RATE", default="10/min")},
    # DRF's default (NUM_PROXIES None) believes the whole X-Forwarded-For, so a client could name a new
    # address on every request and never be throttled: our throttles read inboxerr.addresses instead.
    "NUM_PROXIES": 0,
}

# Live API tokens one user may hold; a new login past it ends their oldest.
API_TOKENS_PER_USER = env.int("API_TOKENS_PER_USER", default=10)
if API_TOKENS_PER_USER < 1:
    raise ImproperlyConfigured("API_TOKENS_PER_USER must be at least 1.")
# knox's own token model, named because a model of ours (inboxerr.TokenUse) points at it.
KNOX_TOKEN_MODEL = "knox.AuthToken"
# Tokens are stored as SHA-512 digests; the plain token is shown once, at creation.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=90)) or None,
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Inboxerr API",
    "DESCRIPTION": "SMS campaigns: contact imports, templates, campaigns, messages and delivery receipts.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Every status field gets an enum named after its model, not after a hash.
    "ENUM_NAME_OVERRIDES": {
        "ImportStatusEnum": "imports.models.ImportStatus",
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "MessageStatusEnum": "messaging.models.MessageStatus",
        "TaskStatusEnum": "messaging.models.TaskStatus",
        "EventSourceEnum": "messaging.models.EventSource",
        "LineTypeEnum": "imports.line_types.LineType",
        "OutboundEventEnum": "messaging.models.OutboundEvent",
        "SubscribableEventEnum": "messaging.outbound.events.SUBSCRIBABLE",
        "DeliveryStatusEnum": "messaging.models.DeliveryStatus",
    },
}

# /healthz gives its details (queue depth, errors) to staff, and to `Authorization: Bearer <this>`.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")

# --- Contact imports --------------------------------------------------------

# Uploads stream here and wait for the parser; each file is deleted once parsed.
IMPORT_TMP_DIR = env.path("IMPORT_TMP_DIR", default=BASE_DIR / "var" / "imports")
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_000_000)
IMPORT_MAX_PROCESSING = env.int("IMPORT_MAX_PROCESSING", default=5)
# An uploaded file waits this long for its import to be confirmed after a preview; a user keeps at most
# IMPORT_MAX_PREVIEWS of them at once.
IMPORT_PREVIEW_SECONDS = env.int("IMPORT_PREVIEW_SECONDS", default=3600)
IMPORT_MAX_PREVIEWS = env.int("IMPORT_MAX_PREVIEWS", default=10)
# Imports of one user parsed at once, at most: below Q_WORKERS (three by default), so one user's uploads never take
# every worker, and another user's file is the next to start (imports.services.import_run_fairly).
IMPORT_RUNNING_PER_USER = env.int("IMPORT_RUNNING_PER_USER", default=2)
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="GB")
# rphonenumbers (a Rust-backed port of phonenumbers, about ten times faster, used where its numbering-plan data is
# phonenumbers') or phonenumbers alone, the reference (imports/phones.py).
PHONE_PARSER = env.str("PHONE_PARSER", default="rphonenumbers")
IMPORT_RETENTION_DAYS = env.int("IMPORT_RETENTION_DAYS", default=4)
# A PROCESSING job whose parser has not reported for this long is handed to another worker.
IMPORT_STALL_SECONDS = env.int("IMPORT_STALL_SECONDS", default=300)
# Above 0: an import reads and converts its rows in one helper process beside the worker writing them to the
# database (imports.ahead); 0: all in the worker's own process.
IMPORT_PARSE_PROCESSES = env.int("IMPORT_PARSE_PROCESSES", default=os.cpu_count() or 1)

# --- Sending SMS -------------------------------------------------------------

# console | locmem | android | twilio, or the dotted path of a backend class.
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
# SMS Gateway for Android: the cloud server, a private server, or the local simulator.
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="https://api.sms-gate.app/3rdparty/v1")
SMS_GATEWAY_LOGIN = env.str("SMS_GATEWAY_LOGIN", default="")
SMS_GATEWAY_PASSWORD = env.str("SMS_GATEWAY_PASSWORD", default="")
# Key for the gateway's webhook signatures (X-Signature: HMAC-SHA256 of body + X-Timestamp).
SMS_WEBHOOK_SIGNING_KEY = env.str("SMS_WEBHOOK_SIGNING_KEY", default="")
# Countries (ISO 3166 codes) messages may go to; empty: all. A user's own allowlist narrows it (SendingLimits).
SMS_ALLOWED_COUNTRIES = env.list("SMS_ALLOWED_COUNTRIES", default=[])
# SMS parts a user may send a day and a calendar month (in TIME_ZONE) unless staff set theirs; 0: unlimited.
SMS_QUOTA_DAILY_PARTS = env.int("SMS_QUOTA_DAILY_PARTS", default=0)
SMS_QUOTA_MONTHLY_PARTS = env.int("SMS_QUOTA_MONTHLY_PARTS", default=0)
# A burst held for staff review: a user's parts to one country calling code today reach SMS_BURST_MIN_PARTS
# (0: never) while that code was under SMS_BURST_USUAL_SHARE of their parts over the SMS_BURST_HISTORY_DAYS
# before. The deployment's own calling code (PHONE_DEFAULT_REGION's) is never a burst.
SMS_BURST_MIN_PARTS = env.int("SMS_BURST_MIN_PARTS", default=1000)
SMS_BURST_USUAL_SHARE = env.float("SMS_BURST_USUAL_SHARE", default=0.05)
SMS_BURST_HISTORY_DAYS = env.int("SMS_BURST_HISTORY_DAYS", default=28)
# The hours of the recipient's day campaigns send in when they set none ("08:00-21:00"); empty: any hour.
SMS_QUIET_HOURS = env.str("SMS_QUIET_HOURS", default="")
# Ends the first message a recipient gets from a user, for campaigns that add it, unless the user set their own.
SMS_OPT_OUT_LINE = env.str("SMS_OPT_OUT_LINE", default="Reply STOP to opt out")
# Final messages older than this many days keep their status and counts, but their text and variables are blanked.
MESSAGE_RETENTION_DAYS = env.int("MESSAGE_RETENTION_DAYS", default=90)
# A reply is linked to the latest message its owner sent to that phone within this many days.
REPLY_WINDOW_DAYS = env.int("REPLY_WINDOW_DAYS", default=7)
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
# Where gateways reach us: the base of the webhook URLs we hand out.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# Messages (or segments) per second through the backend, for all workers together; 0: no limit.
SMS_RATE_LIMIT = env.float("SMS_RATE_LIMIT", default=0)
SMS_RATE_LIMIT_UNIT = env.str("SMS_RATE_LIMIT_UNIT", default="messages")  # or "segments"
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)
# The longest message, in SMS parts (segments): sends, batch items, templates and campaigns are held to it.
# Phones join at most 255 parts into one message; most carriers far fewer.
SMS_MAX_PARTS = env.int("SMS_MAX_PARTS", default=10)
if not 1 <= SMS_MAX_PARTS <= 255:
    raise ImproperlyConfigured(f"SMS_MAX_PARTS must be from 1 to 255, not {SMS_MAX_PARTS}.")
# A claimed message not recorded within this long is checked with the gateway and sent again if need be.
SMS_LEASE_SECONDS = env.int("SMS_LEASE_SECONDS", default=60)
SMS_RETRY_BASE_SECONDS = env.int("SMS_RETRY_BASE_SECONDS", default=30)
SMS_RETRY_MAX_SECONDS = env.int("SMS_RETRY_MAX_SECONDS", default=3600)
# Messages claimed at once, sends in flight at once, and how long one dispatch task keeps going.
SMS_DISPATCH_BATCH = env.int("SMS_DISPATCH_BATCH", default=200)
SMS_CONCURRENCY = env.int("SMS_CONCURRENCY", default=100)
SMS_DISPATCH_SECONDS = env.int("SMS_DISPATCH_SECONDS", default=50)
# Dispatchers running at once across every node (PostgreSQL): a backlog recruits up to this many. Each holds
# a worker for up to SMS_DISPATCH_SECONDS, so keep it below the workers of all nodes together.
SMS_DISPATCHERS = env.int("SMS_DISPATCHERS", default=2)
# After the gateway refuses our credentials, dispatching pauses this long before trying again.
SMS_AUTH_RETRY_SECONDS = env.int("SMS_AUTH_RETRY_SECONDS", default=300)

# --- Webhooks to our users' programs (messaging.outbound) --------------------

# Endpoints may point at private, loopback and link-local addresses: for a deployment whose users' programs
# live on its own network. Off, anyone with an account could make our workers call the inside of it.
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
# One delivery's whole exchange (connect, send, the answer's head and a little of its body).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10)
# Retries: base * 2^(attempt-1), jittered between half and all of it, capped; given up this long after the first try.
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=60)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=3600)
WEBHOOK_RETRY_FOR_SECONDS = env.int("WEBHOOK_RETRY_FOR_SECONDS", default=24 * 3600)
# An endpoint is disabled after this many failed attempts in a row, or failing for this long without a success.
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20)
WEBHOOK_DISABLE_AFTER_SECONDS = env.int("WEBHOOK_DISABLE_AFTER_SECONDS", default=24 * 3600)
# Delivery tasks running at once (each holds a worker for up to WEBHOOK_RUN_SECONDS), requests in flight in one.
WEBHOOK_WORKERS = env.int("WEBHOOK_WORKERS", default=1)
WEBHOOK_RUN_SECONDS = env.int("WEBHOOK_RUN_SECONDS", default=30)
WEBHOOK_CONCURRENCY = env.int("WEBHOOK_CONCURRENCY", default=16)
# Deliveries (delivered or given up) are kept this many days.
WEBHOOK_LOG_DAYS = env.int("WEBHOOK_LOG_DAYS", default=30)


# --- Security (production) --------------------------------------------------

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Scripts never read these cookies: the browsable API and Swagger UI take the CSRF token from the page.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No third-party script, and no inline script but one: the admin and the browsable API load theirs
# from our static files, and Swagger UI is served split (its start-up script is a same-origin file).
# The one is the browsable API's "Log out" link, an onclick handler DRF writes into every page; its
# hash, with 'unsafe-hashes', allows exactly that code and nothing else.
# Inline styles stay allowed because the admin, the browsable API and Swagger UI use style attributes.
# django-csp writes the header; CONTENT_SECURITY_POLICY in the environment replaces the whole policy
# (written as the header reads), and an empty one sends none.
DRF_LOGOUT_ONCLICK_HASH = "'sha256-tHTC1YgZ5UbAs8E2Ib4NjuSS8R05d1nfPHtbmXq05WA='"
_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default="; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'unsafe-hashes' {DRF_LOGOUT_ONCLICK_HASH}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    ),
)
CONTENT_SECURITY_POLICY = (
    {"DIRECTIVES": {name: sources for name, *sources in (d.split() for d in _POLICY.split(";") if d.strip())}}
    if _POLICY.strip()
    else None
)

# --- I18n, static files -----------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes announces its version at every start; its lockout warnings still come through.
    "loggers": {"axes.apps": {"level": "WARNING"}},
}
