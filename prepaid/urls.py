from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from prepaid.backoffice import customers, imports
from prepaid.backoffice import views as backoffice
from prepaid.portal import views as portal

urlpatterns = [
    path("", backoffice.home, name="home"),
    path("setup/", backoffice.setup, name="setup"),
    path("settings/", backoffice.settings_page, name="settings"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="backoffice/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/new/", customers.customer_new, name="customer_new"),
    path("customers/print/", customers.print_cards, name="print_cards"),
    path("customers/<str:code>/", customers.customer_detail, name="customer"),
    path("customers/<str:code>/edit/", customers.customer_edit, name="customer_edit"),
    path("customers/<str:code>/notes/", customers.customer_note, name="customer_note"),
    path("customers/<str:code>/cards/", customers.customer_card, name="customer_card"),
    path("customers/<str:code>/close/", customers.customer_close, name="customer_close"),
    path("c/<str:token>", portal.card, name="portal"),
]

# Importing and exporting customers. Kept clear of "customers/<code>/": a code is one
# path segment, and the export files end in their extension, not a slash.
urlpatterns += [
    path("customers/import/new/", imports.upload, name="customer_import"),
    path("customers/import/<str:token>/", imports.preview, name="customer_import_preview"),
    path("customers/import/<str:token>/commit/", imports.commit, name="customer_import_commit"),
    path(
        "customers/export.xlsx",
        imports.export,
        {"file_format": "xlsx"},
        name="customer_export_xlsx",
    ),
    path(
        "customers/export.csv", imports.export, {"file_format": "csv"}, name="customer_export_csv"
    ),
]
