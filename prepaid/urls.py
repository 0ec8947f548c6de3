from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils.translation import gettext as _
from django.views import defaults

from prepaid.api.api import api
from prepaid.api.errors import ApiError
from prepaid.backoffice import (
    approvals,
    card_stock,
    closing,
    coupons,
    customers,
    imports,
    logins,
    reports,
    shop,
    webhooks,
)
from prepaid.backoffice import views as backoffice
from prepaid.portal import kiosk
from prepaid.portal import views as portal
from prepaid.portal.unsubscribe import unsubscribe_page

urlpatterns = [
    path("", backoffice.home, name="home"),
    path("setup/", backoffice.setup, name="setup"),
    path("settings/", backoffice.settings_page, name="settings"),
    path("login/", logins.Login.as_view(), name="login"),
    path("login/code/", logins.login_code, name="login_code"),
    path("account/two-step/", logins.two_step_page, name="two_step"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/new/", customers.customer_new, name="customer_new"),
    path("customers/print/", customers.print_cards, name="print_cards"),
    path("cards/stock/", card_stock.card_stock, name="card_stock"),
    path("cards/stock/<int:batch_id>/", card_stock.card_stock_sheet, name="card_stock_sheet"),
    path("cards/stock/<int:batch_id>.pdf", card_stock.card_stock_pdf, name="card_stock_pdf"),
    path("customers/<str:code>/", customers.customer_detail, name="customer"),
    path("customers/<str:code>/edit/", customers.customer_edit, name="customer_edit"),
    path("customers/<str:code>/notes/", customers.customer_note, name="customer_note"),
    path("customers/<str:code>/cards/", customers.customer_card, name="customer_card"),
    path("customers/<str:code>/close/", customers.customer_close, name="customer_close"),
    path(
        "customers/<str:code>/kiosk-pin/", customers.customer_kiosk_pin, name="customer_kiosk_pin"
    ),
    path("customers/<str:code>/refund/", customers.customer_refund, name="customer_refund"),
    path("customers/<str:code>/data.json", customers.customer_data, name="customer_data"),
    path("customers/<str:code>/erase/", customers.customer_erase, name="customer_erase"),
    path(
        "customers/<str:code>/reverse/<int:batch_id>/",
        customers.customer_reverse,
        name="customer_reverse",
    ),
    path(
        "customers/<str:code>/punch-cards/<int:card_id>/refund/",
        customers.customer_card_refund,
        name="customer_card_refund",
    ),
    path("approvals/", approvals.approval_list, name="approvals"),
    path("reports/exceptions/", approvals.exceptions, name="report_exceptions"),
    path(
        "approvals/<int:approval_id>/approve/", approvals.approval_approve, name="approval_approve"
    ),
    path("approvals/<int:approval_id>/reject/", approvals.approval_reject, name="approval_reject"),
    path(
        "approvals/<int:approval_id>/withdraw/",
        approvals.approval_withdraw,
        name="approval_withdraw",
    ),
    path("c/<str:token>", portal.card, name="portal"),
    path("c/<str:token>/qr.svg", portal.qr, name="portal_qr"),
    path("c/<str:token>/lost", portal.report_lost, name="portal_lost"),
    path("c/<str:token>/kiosk-pin", portal.kiosk_pin, name="portal_kiosk_pin"),
    path("c/<str:token>/manifest.webmanifest", portal.manifest, name="portal_manifest"),
    path(
        "c/<str:token>/statement-<int:year>-<int:month>.csv",
        portal.statement,
        name="portal_statement",
    ),
    path(
        "c/<str:token>/statement-<int:year>-<int:month>.pdf",
        portal.statement_pdf,
        name="portal_statement_pdf",
    ),
    path("kiosk/", kiosk.scan, name="kiosk"),
    path("kiosk/pin/", kiosk.pin, name="kiosk_pin"),
    path("kiosk/account/", kiosk.open_account, name="kiosk_account"),
    path("kiosk/done/", kiosk.done, name="kiosk_done"),
    path("m/unsubscribe/<str:token>", unsubscribe_page, name="unsubscribe"),
    path("api/v1/", api.urls),
    path("counter/", include("prepaid.counter.urls")),
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

# The shop's set-up: products, prices, plans and rules; staff, stores, counters, tokens.
urlpatterns += [
    path("shop/products/", shop.products, name="products"),
    path("shop/products/new/", shop.product, name="product_new"),
    path("shop/products/<int:product_id>/", shop.product, name="product"),
    path("shop/methods/new/", shop.payment_method, name="payment_method_new"),
    path("shop/methods/<int:method_id>/", shop.payment_method, name="payment_method"),
    path("shop/punch-cards/new/", shop.package, name="package_new"),
    path("shop/punch-cards/<int:package_id>/", shop.package, name="package"),
    path("shop/passes/new/", shop.time_pass, name="pass_new"),
    path("shop/tiers/new/", shop.tier, name="tier_new"),
    path("shop/tiers/<int:tier_id>/", shop.tier, name="tier"),
    path("shop/passes/<int:package_id>/", shop.time_pass, name="pass"),
    path("shop/plans/new/", shop.plan, name="plan_new"),
    path("shop/plans/<int:plan_id>/", shop.plan, name="plan"),
    path("shop/rules/new/", shop.bonus_rule, name="bonus_rule_new"),
    path("shop/rules/<int:rule_id>/", shop.bonus_rule, name="bonus_rule"),
    path("shop/staff/", shop.staff_list, name="staff"),
    path("shop/staff/new/", shop.staff_member, name="staff_new"),
    path("shop/staff/<int:staff_id>/", shop.staff_member, name="staff_member"),
    path("shop/lockouts/<int:lockout_id>/lift/", shop.lift_lockout, name="lift_lockout"),
    path("shop/login-locks/<int:lock_id>/lift/", logins.lift_login_lock, name="lift_login_lock"),
    path(
        "shop/staff/<int:staff_id>/two-step-off/",
        logins.staff_two_step_off,
        name="staff_two_step_off",
    ),
    path("shop/stores/new/", shop.store, name="store_new"),
    path("shop/stores/<int:store_id>/", shop.store, name="store"),
    path("shop/counters/<int:device_id>/remove/", shop.revoke_counter, name="revoke_counter"),
    path("shop/tokens/new/", shop.new_token, name="token_new"),
    path("shop/tokens/<int:token_id>/revoke/", shop.revoke_token, name="revoke_token"),
    path("activity/", shop.activity, name="activity"),
    path("shop/coupons/", coupons.coupon_list, name="coupons"),
    path("shop/coupons/print/", coupons.coupon_print, name="coupon_print"),
    path("shop/coupons/coupons.csv", coupons.coupon_export, name="coupon_export"),
    path(
        "shop/coupons/<int:coupon_id>/withdraw/",
        coupons.coupon_withdraw,
        name="coupon_withdraw",
    ),
]


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """An address nobody serves: the API's JSON error under /api/, the page elsewhere."""
    if request.path.startswith("/api/"):
        message = _("There is no such address in the API; see /api/v1/docs.")
        return ApiError(404, "not_found", message).response()
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """A bug outside any API endpoint (the endpoints answer their own): JSON under /api/."""
    if request.path.startswith("/api/"):
        message = _("Something went wrong on our side; try again in a moment.")
        return ApiError(500, "server_error", message).response()
    return defaults.server_error(request)


handler404 = not_found
handler500 = server_error


# The owner's money: statements, what is owed over time, exports.
urlpatterns += [
    path("reports/", reports.reports_home, name="reports"),
    path("reports/statement/", reports.statement_page, name="report_statement"),
    path(
        "reports/statement.<str:file_format>",
        reports.statement_export,
        name="report_statement_export",
    ),
    path("reports/month.xlsx", reports.month_export, name="report_month_export"),
    path("reports/liability/", reports.liability_page, name="report_liability"),
    path(
        "reports/liability.<str:file_format>",
        reports.liability_export,
        name="report_liability_export",
    ),
    # Day closes (Z-reports), the X-report, settlement files (prepaid.backoffice.closing)
    path("reports/closes/", closing.close_list, name="report_closes"),
    path("reports/closes/new/", closing.close_new, name="report_close_new"),
    path("reports/closes.<str:file_format>", closing.close_export, name="report_closes_export"),
    path("reports/closes/running/", closing.x_report, name="report_x"),
    path("reports/closes/<int:close_id>/", closing.close_detail, name="report_close"),
    path(
        "reports/closes/<int:close_id>/print/<str:paper>/",
        closing.close_print,
        name="report_close_print",
    ),
    path("reports/closes/<int:close_id>/decide/", closing.close_decide, name="report_close_decide"),
    path(
        "reports/closes/<int:close_id>/recount/",
        closing.close_recount,
        name="report_close_recount",
    ),
    path("reports/settlements/", closing.settlement_list, name="report_settlements"),
    path("reports/settlements/new/", closing.settlement_new, name="report_settlement_new"),
    path(
        "reports/settlements/<int:settlement_id>/",
        closing.settlement_detail,
        name="report_settlement",
    ),
    path(
        "reports/settlements/<int:settlement_id>.<str:file_format>",
        closing.settlement_export,
        name="report_settlement_export",
    ),
    path(
        "reports/settlements/<int:settlement_id>/resolve/",
        closing.settlement_resolve,
        name="report_settlement_resolve",
    ),
    path("reports/balances/", reports.balances_page, name="report_balances"),
    path(
        "reports/balances/recompute/",
        reports.balances_recompute,
        name="report_balances_recompute",
    ),
    path(
        "reports/balances.<str:file_format>",
        reports.balances_export,
        name="report_balances_export",
    ),
]

# Webhooks (owner, manager): endpoints, their delivery log, "send again", a test event.

urlpatterns += [
    path("shop/webhooks/", webhooks.webhook_list, name="webhooks"),
    path("shop/webhooks/new/", webhooks.webhook_new, name="webhook_new"),
    path("shop/webhooks/<int:endpoint_id>/", webhooks.webhook_detail, name="webhook"),
    path("shop/webhooks/<int:endpoint_id>/state/", webhooks.webhook_state, name="webhook_state"),
    path("shop/webhooks/<int:endpoint_id>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path("shop/webhooks/<int:endpoint_id>/ping/", webhooks.webhook_ping, name="webhook_ping"),
    path(
        "shop/webhooks/deliveries/<int:delivery_id>/again/",
        webhooks.delivery_again,
        name="webhook_delivery_again",
    ),
]
