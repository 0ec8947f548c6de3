"""Payment method names: the defaults are shown in the reader's language, the owner's
own names as typed."""

from __future__ import annotations

from django.utils import translation

from prepaid.ledger.models import PaymentMethod


def test_default_names_are_translated_and_typed_names_are_not():
    with translation.override("zh-hans"):
        assert PaymentMethod(name="Cash").label == "现金"
        assert str(PaymentMethod(name="Mobile payment")) == "移动支付"
        # "Refund" is in the catalogue (a button), but as a method name it is the owner's.
        assert PaymentMethod(name="Refund").label == "Refund"
        assert PaymentMethod(name="GCash").label == "GCash"
    with translation.override("nl"):
        assert PaymentMethod(name="Card").label != "Card"
