"""Settings, read from the environment (see docs/configuration.md).

Every knob a self-hoster may turn is an environment variable with a safe default, so a
fresh clone runs with zero configuration: SQLite in ./var, a secret key generated on the
first run and kept in the data folder, DEBUG off.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from prepaid.lib.files import private_folder, write_private

BASE_DIR = Path(__file__).resolve().parent


def envbool(name: str, default: str) -> bool:
    return os.getenv(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: str) -> int:
    return int(os.getenv(name, default))


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


# 0700: it holds the database, the secret key and uploaded sheets (prepaid/lib/files.py).
DATA_DIR = private_folder(Path(os.getenv("PREPAID_DATA_DIR") or "var").resolve())


def _secret_key() -> str:
    """The SECRET_KEY from the environment, or one generated once and kept in DATA_DIR.

    A key that changed on every restart would log everybody out and break signed links,
    so the generated key is written to a file created readable by the owner only.
    """
    if key := os.getenv("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# The keys that seal the customers' personal data (prepaid/lib/sealing.py), unless they
# come from PREPAID_DATA_KEYS. Without them the contact data cannot be read: keep a copy
# apart from the backups (docs/privacy.md).
DATA_KEYS_FILE = Path(os.getenv("PREPAID_DATA_KEYS_FILE") or DATA_DIR / "data_keys")
DEBUG = envbool("DEBUG", "False")
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The font PDFs are written in (a .ttf/.otf/.ttc file); unset: one found on the system
# (lib/pdf.py, docs/configuration.md).
PREPAID_PDF_FONT = os.getenv("PREPAID_PDF_FONT", "").strip()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
if (site_host := urlsplit(SITE_URL).hostname) and site_host not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(site_host)  # the address customers' cards point at must work
CSRF_TRUSTED_ORIGINS = [SITE_URL] if SITE_URL.startswith("http") else []
HTTPS = SITE_URL.startswith("https://")
# With an https SITE_URL prepaid runs behind a TLS proxy (Caddy, nginx…) that sets
# X-Forwarded-Proto; everything then insists on https.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if envbool("TRUST_PROXY_HEADERS", str(HTTPS)) else None
)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", str(HTTPS))
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "False")
# Whether every subdomain of the shop's domain is https, or the domain belongs on the
# browsers' preload list, is the domain owner's call, not the app's: don't nag about it.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the API docs page's Swagger UI itself, no CDN
    # Domain apps, lowest first: each may import only those above it in this list.
    "prepaid.lib",
    "prepaid.staff",
    "prepaid.customers",
    "prepaid.ledger",
    "prepaid.catalog",
    "prepaid.sales",
    "prepaid.programs",  # punch cards (and the other stored-value programs)
    "prepaid.coupons",  # codes that take money off a sale
    "prepaid.reports",
    "prepaid.operations",  # the envelope every operation runs in; its outcomes; the outbox
    "prepaid.closing",  # day closes (Z-reports), settlement files; runs in the envelope
    "prepaid.webhooks",
    "prepaid.messaging",  # e-mail and SMS to customers, sent from the outbox
    # What every interface shares: middleware, the shop in templates, filters, error pages.
    "prepaid.web",
    # Interfaces: each imports the apps above, never another interface.
    "prepaid.api",
    "prepaid.backoffice",
    "prepaid.counter",
    "prepaid.ops",
    "prepaid.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "prepaid.web.middleware.NoStoreMiddleware",
    "prepaid.web.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "prepaid.web.middleware.QueryTextMiddleware",
    "prepaid.web.middleware.DatabaseBusyMiddleware",
    "prepaid.web.middleware.BusinessMiddleware",
    "prepaid.web.middleware.IdleLogoutMiddleware",
]

ROOT_URLCONF = "prepaid.urls"
WSGI_APPLICATION = "prepaid.wsgi.application"

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
                "prepaid.web.context.business",
            ],
        },
    },
]

# SQLite is the zero-setup default. WAL lets readers run beside the one writer;
# synchronous=FULL makes a committed top-up survive a power cut (NORMAL may lose the
# last commits); IMMEDIATE takes the write lock at BEGIN, so a read-then-write never
# fails half-way with "database is locked"; the timeout makes writers queue instead.
SQLITE_BUSY_TIMEOUT_SECONDS = envint("SQLITE_BUSY_TIMEOUT_SECONDS", "20")
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
        # Deleted and overwritten content is zeroed, not left in free space: an erased
        # customer's name does not linger in the file (docs/privacy.md).
        " PRAGMA secure_delete=ON;"
        f" PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000};"
    ),
}

DATABASE_URL = os.getenv("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'prepaid.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with the writers of one process queued fairly: prepaid/db/sqlite.
    DATABASES["default"]["ENGINE"] = "prepaid.db.sqlite"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
    # Tests run against a file, not :memory:, so threads share one database with the
    # same locking as production. One per test process, so two runs never collide.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["TEST"] = {"NAME": f"test_prepaid_{os.getpid()}"}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT: the reports' queries estimate millions of rows and cross its threshold,
        # then spend longer compiling than running (1.3 s against 0.3 s on 10M transfers,
        # bench/README.md); the short queries of the counter never gain from it.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = (options.get("options", "") + " -c jit=off").strip()
        # Prepared statements: with server-side binding, psycopg prepares a statement the
        # fifth time a connection runs it, so the counter's joined reads are planned once
        # per connection, not per request (planning a redemption's nine-table read took
        # 1.9 ms, seven times running it; PostgreSQL's CPU per sale fell from 2.8 to
        # 1.1 ms, bench/README.md). Off for a pooler in transaction mode (PgBouncer
        # before 1.21), which cannot keep a connection's prepared statements.
        if envbool("DATABASE_PREPARED_STATEMENTS", "true"):
            options.setdefault("server_side_binding", True)
            options.setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing folder before collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploads and request bodies (docs/configuration.md, "Uploads"). The spreadsheet import
# and the settlement files check their caps before the heavy work (sales.importing.limits);
# an uploaded file keeps at most IMPORT_MAX_FILE_BYTES on disk, whatever its size
# (web.uploads). A body other than files (the API's JSON, a form's fields) larger than
# DATA_UPLOAD_MAX_MEMORY_SIZE is refused: 413 in the API.
IMPORT_MAX_FILE_BYTES = envint("PREPAID_IMPORT_MAX_FILE_BYTES", str(50 * 1024 * 1024))
IMPORT_MAX_UNPACKED_BYTES = envint("PREPAID_IMPORT_MAX_UNPACKED_BYTES", str(100 * 1024 * 1024))
IMPORT_MAX_ROWS = envint("PREPAID_IMPORT_MAX_ROWS", "200000")
IMPORT_MAX_COLUMNS = envint("PREPAID_IMPORT_MAX_COLUMNS", "60")
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("PREPAID_MAX_REQUEST_BYTES", str(1024 * 1024))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger uploads go to a temporary file
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "prepaid.web.uploads.CappedUploadHandler",
]

SESSION_COOKIE_HTTPONLY = True
# The back office signs a person out after this many minutes without a request
# (prepaid.web.middleware.IdleLogoutMiddleware); the counter has its own lock.
BACKOFFICE_IDLE_MINUTES = envint("PREPAID_IDLE_MINUTES", "30")
# The one-time code the set-up page asks for until the shop has an owner
# (prepaid.staff.setup_code): printed by `prepaid serve`, kept here, 0600.
SETUP_CODE_FILE = DATA_DIR / "setup-code"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# E-mail to customers (docs/messages.md): SMTP under Django's own names. Without
# EMAIL_HOST, messages are printed on the console instead (nothing leaves the machine).
EMAIL_HOST = os.getenv("EMAIL_HOST", "")
EMAIL_PORT = envint("EMAIL_PORT", "587")
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "True" if EMAIL_HOST else "False")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", "False")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "20")  # a dead mail server holds the worker no longer
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "prepaid@localhost")
# EMAIL_BACKEND may name another of Django's backends: the dummy one sends nothing and
# prints nothing (a shop that wants no e-mail and keeps its server's output).
EMAIL_BACKEND = os.getenv("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_FILE_PATH = os.getenv("EMAIL_FILE_PATH") or str(DATA_DIR / "mail")  # filebased backend
# SMS to customers: the dotted path of a backend class (prepaid.messaging.sms); empty:
# no SMS is sent.
PREPAID_SMS_BACKEND = os.getenv("PREPAID_SMS_BACKEND", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A card's token in an address (``Not Found: /c/<token>``) never reaches the log.
    "filters": {"secrets": {"()": "prepaid.lib.logs.HideSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["secrets"]}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
}
