"""Pheu settings: one file, every deployment knob read from a ``PHEU_*`` environment variable.

The embedded default is an SQLite file under ``var/`` and the database-backed task queue, so that
``make run`` on a fresh clone is a complete CRM; production sets ``PHEU_DATABASE_URL`` to PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PHEU_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("PHEU_DEBUG", False)
_DEV_KEY = "pheu-insecure-development-key-set-PHEU_SECRET_KEY-in-production"
SECRET_KEY = env_str("PHEU_SECRET_KEY", _DEV_KEY)
ALLOWED_HOSTS = env_list("PHEU_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("PHEU_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "pheu.core",
    "pheu.accounts",
    "pheu.webhooks",
    "pheu.contacts",
    "pheu.teams",
    "pheu.leads",
    "pheu.scoring",
    "pheu.assignment",
    "pheu.activities",
    "pheu.sales",
    "pheu.capture",
    "pheu.imports",
    "pheu.reports",
    "pheu.api",
    "pheu.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "pheu.core.middleware.DatabaseUnavailableMiddleware",  # a view's database failure → a clean 503
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pheu.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pheu.urls"
WSGI_APPLICATION = "pheu.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "pheu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pheu.core.context_processors.pheu",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------
DATABASE_URL = env_str("PHEU_DATABASE_URL", f"sqlite:///{VAR_DIR / 'pheu.sqlite3'}")
# Persistent connections: opening a PostgreSQL connection (a new server process) costs ≈ 3 ms, more than
# most requests' queries; each web thread keeps its own, checked before reuse after an error or a restart.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("PHEU_DB_CONN_MAX_AGE", 600),
        conn_health_checks=env_bool("PHEU_DB_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process worker read while a request writes; IMMEDIATE transactions take the write
    # lock up front, so two writers queue instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- people ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"  # the dashboard (pheu.reports)
LOGOUT_REDIRECT_URL = "accounts:login"
# Failed-login lock-out: this many failures in a row lock the account for PHEU_LOGIN_LOCK_MINUTES.
PHEU_LOGIN_MAX_FAILURES = env_int("PHEU_LOGIN_MAX_FAILURES", 5)
PHEU_LOGIN_LOCK_MINUTES = env_int("PHEU_LOGIN_LOCK_MINUTES", 15)

# --- language and time ----------------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "pheu" / "locale"]
USE_I18N = True
TIME_ZONE = env_str("PHEU_TIME_ZONE", "Asia/Ho_Chi_Minh")
USE_TZ = True
LANGUAGE_COOKIE_NAME = "pheu_language"
# Default region for phone numbers typed without a country code (0912 345 678 → +84912345678).
PHEU_PHONE_REGION = env_str("PHEU_PHONE_REGION", "VN")

# --- static files (front-end libraries come from node_modules, installed by `npm ci`) --------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
_NODE = BASE_DIR / "node_modules"
STATICFILES_DIRS: list = [
    BASE_DIR / "pheu" / "static",  # Pheu's own CSS/JS (pheu/app.css, pheu/app.js)
    *(
        (prefix, _NODE / path)
        for prefix, path in [
            ("vendor/bootstrap", "bootstrap/dist"),
            ("vendor/bootstrap-icons", "bootstrap-icons/font"),
            ("vendor/chartjs", "chart.js/dist"),
            ("vendor/htmx", "htmx.org/dist"),
            ("vendor/sortablejs", "sortablejs"),
        ]
        if (_NODE / path).is_dir()
    ),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pheu.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "pheu.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "pheu.core.api.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # DRF's parsers, each string of a body cleaned of control characters (pheu.core.api.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "pheu.core.api.parsers.JSONParser",
        "pheu.core.api.parsers.FormParser",
        "pheu.core.api.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "pheu.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pheu API",
    "DESCRIPTION": "Leads, opportunities, teams and the sales pipeline of Pheu.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The records a rule may select (POST /domains/validate/ `model`), named for what they are.
    "ENUM_NAME_OVERRIDES": {"DomainModelEnum": [("lead", "lead")]},
    # Every operation documents the error answers it may give (400, 401, 403, 404, 409, 415, 429).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "pheu.api.schema.document_errors",
    ],
}

# --- background work ------------------------------------------------------------------------------
# Redis (optional): the task queue shared by workers on several machines (PHEU_TASKS_BACKEND=redis) and the
# shared cache and counters (rate limits) of every process. Keys start with PHEU_REDIS_PREFIX.
PHEU_REDIS_URL = env_str("PHEU_REDIS_URL", "")
PHEU_REDIS_PREFIX = env_str("PHEU_REDIS_PREFIX", "pheu")
if PHEU_REDIS_URL and not PHEU_REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"PHEU_REDIS_URL={PHEU_REDIS_URL!r} is not a Redis URL (redis://host:6379/0, rediss://…, unix://…)"
    )
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "redis": "pheu.core.redisqueue.RedisBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}
PHEU_TASKS_BACKEND = env_str("PHEU_TASKS_BACKEND", "database")
if PHEU_TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"PHEU_TASKS_BACKEND={PHEU_TASKS_BACKEND!r}: expected one of {', '.join(sorted(_TASK_BACKENDS))}"
    )
TASKS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": _TASK_BACKENDS[PHEU_TASKS_BACKEND], "QUEUES": ["default"]}
}
if PHEU_TASKS_BACKEND == "redis":
    if not PHEU_REDIS_URL:
        raise ImproperlyConfigured(
            "PHEU_TASKS_BACKEND=redis needs PHEU_REDIS_URL, e.g. redis://127.0.0.1:6379/0"
        )
    TASKS["default"]["OPTIONS"] = {
        "URL": PHEU_REDIS_URL,
        "PREFIX": PHEU_REDIS_PREFIX,
        # A worker silent this long is presumed dead: its jobs go back to the queue.
        "LEASE_SECONDS": env_int("PHEU_REDIS_LEASE_SECONDS", 30),
        # Times a job may be taken by workers that then died before it is marked failed.
        "MAX_ATTEMPTS": env_int("PHEU_TASK_MAX_ATTEMPTS", 3),
    }
# A worker that has not reported for this long is shown as down by /healthz.
PHEU_WORKER_STALE_SECONDS = env_int("PHEU_WORKER_STALE_SECONDS", 120)

# --- mail -----------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("PHEU_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("PHEU_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("PHEU_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("PHEU_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("PHEU_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("PHEU_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("PHEU_EMAIL_FROM", "pheu@localhost")

# One cache shared by every web and worker process (import progress, the API's log-in throttle): Redis when
# PHEU_REDIS_URL is set, otherwise a database table (made by core's migrations). Rate limits count on
# pheu.core.counters, on the same store.
if PHEU_REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": PHEU_REDIS_URL,
            "KEY_PREFIX": f"{PHEU_REDIS_PREFIX}:cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "pheu_cache"}}

# --- capture (web-to-lead form, e-mail to lead) ----------------------------------------------------
# Posts to a public web form per IP and window (counted on the shared store above); 0: no limit.
PHEU_WEBFORM_RATE_LIMIT = env_int("PHEU_WEBFORM_RATE_LIMIT", 20)
PHEU_WEBFORM_RATE_WINDOW = env_int("PHEU_WEBFORM_RATE_WINDOW", 60)
# Sites allowed to post to every team's web form with JavaScript (CORS), besides each team's own; "*": any.
PHEU_WEBFORM_ALLOWED_ORIGINS = env_list("PHEU_WEBFORM_ALLOWED_ORIGINS", [])
PHEU_IMAP_POLL_SECONDS = env_int("PHEU_IMAP_POLL_SECONDS", 60)
PHEU_IMAP_TIMEOUT = env_int("PHEU_IMAP_TIMEOUT", 30)
# Page views the public tracking endpoint takes per client IP: "N/second|minute|hour|day" ("0/minute": no
# limit); checked when the scoring app starts.
PHEU_TRACKING_RATE = env_str("PHEU_TRACKING_RATE", "120/minute")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"kv": {"format": "time=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "kv"}},
    "root": {"handlers": ["console"], "level": env_str("PHEU_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"

# The pipeline index covers its columns on PostgreSQL (INCLUDE); SQLite ignores the included columns, which
# only costs it the index-only scan.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
