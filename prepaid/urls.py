from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from prepaid.backoffice import views as backoffice

urlpatterns = [
    path("", backoffice.home, name="home"),
    path("setup/", backoffice.setup, name="setup"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="backoffice/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
]
