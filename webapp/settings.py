"""Settings, read from the environment; safe embedded defaults for a single machine.

DJANGO_ENV=production switches to the deployment profile (HTTPS-only cookies, HSTS, no debug) that
passes ``manage.py check --deploy``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from webapp.core.config import env_int, longview_config

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def _proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """``SECURE_PROXY_SSL_HEADER`` from ``"Header-Name: value"`` (empty: None)."""
    if not raw.strip():
        return None
    name, sep, value = raw.partition(":")
    if not sep or not name.strip() or not value.strip():
        raise ImproperlyConfigured(f"SECURE_PROXY_SSL_HEADER must read 'Header-Name: value', got {raw!r}")
    return "HTTP_" + name.strip().upper().replace("-", "_"), value.strip()


PRODUCTION = os.environ.get("DJANGO_ENV", "development") == "production"
DEBUG = _env_bool("DEBUG", default=not PRODUCTION)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
    SECRET_KEY = "insecure-development-key-only-for-a-single-local-machine-0123456789abcdef"  # noqa: S105 - the development profile only; production refuses to start without SECRET_KEY

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

DATA_DIR = Path(os.environ.get("LONGVIEW_DATA_DIR", BASE_DIR / "var")).resolve()
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media")).resolve()
# Uploaded footage and thumbnails are served only through views that check permissions.
MEDIA_URL = "/media-not-served/"
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static")).resolve()
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]
INDEX_DIR = Path(os.environ.get("INDEX_DIR", DATA_DIR / "index")).resolve()

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "webapp.core",
    "webapp.accounts",
    "webapp.audit",
    "webapp.cases",
    "webapp.cameras",
    "webapp.videos",
    "webapp.tracklets",
    "webapp.search",
    "webapp.subjects",
    "webapp.ingest",
    "webapp.pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside the login redirect, so redirects and refusals carry the headers too.
    "webapp.core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "webapp.core.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.urls"
ASGI_APPLICATION = "webapp.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "webapp.pages.context.cases",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'longview.sqlite3'}",
        conn_max_age=env_int(os.environ, "DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the workers write concurrently: WAL, a busy timeout and immediate
    # transactions avoid "database is locked" under that load.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # A deferred transaction that reads and then writes cannot wait for a concurrent writer:
            # SQLite fails it at once with "database is locked". Taking the write lock at BEGIN makes
            # concurrent ingests queue behind each other for up to the timeout instead.
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["webapp.accounts.lockout.LockoutModelBackend"]
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))
# A signed-in session ends this long after login (a working shift), and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = _env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("CHANNEL_PREFIX", "longview")},
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# A killed worker must lose nothing: acknowledge only after the task ran, requeue on worker loss,
# and take one task at a time so a crash strands at most the one it held.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
CELERY_TASK_ROUTES = {
    "videos.ingest": {"queue": "ingest"},
    "search.run": {"queue": "search"},
    "search.photo": {"queue": "search"},
    # Cutting and encoding evidence clips is video work, like ingestion.
    "subjects.export": {"queue": "ingest"},
    "subjects.search": {"queue": "search"},
}
CELERY_TASK_DEFAULT_QUEUE = "ingest"
# Cases past their retention date are deleted once a day (``celery beat``; also
# ``manage.py enforce_retention``).
CELERY_BEAT_SCHEDULE = {
    "enforce-retention": {"task": "cases.enforce_retention", "schedule": 24 * 3600.0, "options": {"queue": "ingest"}},
    # Uploads abandoned for LONGVIEW["UPLOAD_EXPIRY_HOURS"] lose their bytes and rows (also
    # ``manage.py expire_uploads``).
    "expire-uploads": {"task": "videos.expire_uploads", "schedule": 3600.0, "options": {"queue": "ingest"}},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["webapp.accounts.permissions.IsInvestigator"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "webapp.core.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": ["webapp.core.throttles.EndpointRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "search": os.environ.get("THROTTLE_SEARCH", "120/min"),
        "photo_search": os.environ.get("THROTTLE_PHOTO_SEARCH", "30/min"),
        "upload": os.environ.get("THROTTLE_UPLOAD", "60/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Longview API",
    "DESCRIPTION": "Upload CCTV footage, follow ingestion, and search for people across cameras.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema describes every route: signed-in users with a role only, like the API itself.
    "SERVE_PERMISSIONS": ["webapp.accounts.permissions.IsInvestigator"],
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "webapp.cases.models.Case.Status",
        "VideoStatusEnum": "webapp.videos.models.Video.Status",
    },
}

# The product's own settings, typed: LONGVIEW_CONFIG names an optional TOML file of them, and single
# environment variables (MAX_UPLOAD_BYTES, UPLOAD_CHUNK_BYTES, UPLOAD_EXPIRY_HOURS, ENGINE_DEVICE,
# ENGINE_THREADS, PIPELINE_CONFIG) override it; a bad value is an ImproperlyConfigured naming it.
LONGVIEW = longview_config(os.environ).as_settings()
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024**2
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024**2

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    # Behind a TLS-terminating proxy the server itself speaks plain HTTP: the proxy's header says
    # the browser's request was HTTPS, so there is no redirect loop. Empty: no proxy is trusted.
    SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(os.environ.get("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https"))
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int(os.environ, "SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
