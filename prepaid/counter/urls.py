from __future__ import annotations

from django.urls import path

from prepaid.counter import views

urlpatterns = [
    path("", views.home, name="counter"),
    path("find/", views.find, name="counter_find"),
    path("unlock/", views.unlock, name="counter_unlock"),
    path("lock/", views.lock, name="counter_lock"),
    path("enroll/", views.enroll, name="counter_enroll"),
    path("new/", views.new_customer, name="counter_new_customer"),
    path("c/<str:code>/", views.customer, name="counter_customer"),
    path("c/<str:code>/card/", views.print_card, name="counter_print_card"),
    path("c/<str:code>/link-card/", views.link_card, name="counter_link_card"),
    path("c/<str:code>/check/", views.check, name="counter_check"),
    path("c/<str:code>/sell/", views.sell, name="counter_sell"),
    path("c/<str:code>/top-up/", views.top_up, name="counter_top_up"),
    path("c/<str:code>/punch-card/", views.package, name="counter_package"),
    path("c/<str:code>/points/", views.use_points, name="counter_points"),
    path("c/<str:code>/refund/", views.refund, name="counter_refund"),
    path("c/<str:code>/kiosk-pin/", views.kiosk_pin, name="counter_kiosk_pin"),
    path("receipt/<int:batch_id>/", views.receipt, name="counter_receipt"),
    path("receipt/<int:batch_id>/undo/", views.undo, name="counter_undo"),
    path("receipt/<int:batch_id>/move/", views.move, name="counter_move"),
    path("shift/", views.shift, name="counter_shift"),
]
