"""``prepaid verify``'s checks of the coupons: no coupon was taken more often than it
allows (uses whose sale was not reversed), and what each sale's lines say was taken off
is what its coupon uses say they took off.

When tiers take money off sales too, their part joins the second check's sum.
"""

from __future__ import annotations

from django.db import connection

from prepaid.ledger.verify import Violation

OVERUSED = """
WITH standing AS (
    SELECT u.coupon_id, u.customer_id, COUNT(*) AS used
    FROM coupons_couponuse u
    JOIN ledger_batch b ON b.id = u.batch_id
    WHERE NOT EXISTS (SELECT 1 FROM ledger_batch r WHERE r.reverses_id = b.id)
    GROUP BY u.coupon_id, u.customer_id
)
SELECT c.code, c.uses_allowed, SUM(s.used), c.per_customer, MAX(s.used)
FROM standing s JOIN coupons_coupon c ON c.id = s.coupon_id
GROUP BY c.id, c.code, c.uses_allowed, c.per_customer
HAVING (c.uses_allowed IS NOT NULL AND SUM(s.used) > c.uses_allowed)
    OR (c.per_customer IS NOT NULL AND MAX(s.used) > c.per_customer)
ORDER BY c.code LIMIT 20
"""

DISCOUNTS = """
WITH lines AS (
    SELECT batch_id, SUM(discount_minor - tier_discount_minor) AS discount
    FROM sales_saleline GROUP BY batch_id
    HAVING SUM(discount_minor - tier_discount_minor) <> 0
), used AS (
    SELECT batch_id, SUM(discount_minor) AS discount
    FROM coupons_couponuse GROUP BY batch_id
)
SELECT l.batch_id, l.discount, u.discount
FROM lines l LEFT JOIN used u ON u.batch_id = l.batch_id
WHERE u.batch_id IS NULL OR l.discount <> u.discount
UNION ALL
SELECT u.batch_id, l.discount, u.discount
FROM used u LEFT JOIN lines l ON l.batch_id = u.batch_id
WHERE l.batch_id IS NULL
ORDER BY 1 LIMIT 20
"""


def coupon_uses() -> list[Violation]:
    with connection.cursor() as cursor:
        cursor.execute(OVERUSED)
        found = cursor.fetchall()
    return [
        Violation(
            "coupons",
            f"coupon {code}: {used} uses standing of {allowed or 'any'} allowed,"
            f" at most {most} by one customer of {per_customer or 'any'}",
        )
        for code, allowed, used, per_customer, most in found
    ]


def coupon_discounts() -> list[Violation]:
    with connection.cursor() as cursor:
        cursor.execute(DISCOUNTS)
        found = cursor.fetchall()
    return [
        Violation(
            "coupons",
            f"sale {batch}: its lines took off {lines or 0}, its coupon uses say {used or 0}",
        )
        for batch, lines, used in found
    ]
