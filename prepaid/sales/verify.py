"""What ``prepaid verify`` checks of the sales: the lines of every sale agree with the
money it moved (their amounts with its sale transfers, their bonus parts with what the
bonus balance paid; the points a sale earned move apart). And the audit trail's hash
chain (``prepaid.staff.audit``), checked from here because ``verify`` is the ledger's
and the staff app sits below it."""

from __future__ import annotations

from django.db import connection

from prepaid.ledger.verify import Violation
from prepaid.staff import audit

LINES = """
WITH lines AS (
    SELECT batch_id, SUM(amount_minor) AS amount, SUM(from_bonus_minor) AS from_bonus
    FROM sales_saleline GROUP BY batch_id
), moved AS (
    SELECT t.batch_id, SUM(t.amount) AS amount,
           SUM(CASE WHEN a.kind = 'bonus' THEN t.amount ELSE 0 END) AS from_bonus
    FROM ledger_transfer t
    JOIN ledger_batch b ON b.id = t.batch_id
    JOIN ledger_account a ON a.id = t.debit_account_id
    WHERE b.code = 'sale' AND t.code = 'sale'
    GROUP BY t.batch_id
)
SELECT l.batch_id, l.amount, m.amount, l.from_bonus, m.from_bonus
FROM lines l LEFT JOIN moved m ON m.batch_id = l.batch_id
WHERE m.batch_id IS NULL OR l.amount <> m.amount OR l.from_bonus <> m.from_bonus
UNION ALL
SELECT m.batch_id, NULL, m.amount, NULL, m.from_bonus
FROM moved m
WHERE NOT EXISTS (SELECT 1 FROM sales_saleline s WHERE s.batch_id = m.batch_id)
ORDER BY 1 LIMIT 20
"""


def sale_lines() -> list[Violation]:
    with connection.cursor() as cursor:
        cursor.execute(LINES)
        found = cursor.fetchall()
    return [
        Violation(
            "lines",
            f"sale {batch}: lines say {lines} ({lines_bonus} from bonus), "
            f"its transfers moved {moved} ({moved_bonus} from bonus)",
        )
        for batch, lines, moved, lines_bonus, moved_bonus in found
    ]


def audit_chain() -> list[Violation]:
    return [Violation("audit", problem) for problem in audit.chain_problems()]


def data_keys() -> list[Violation]:
    """Every customer's data key is wrapped by a key the shop holds (``lib.sealing``):
    a lost key file is found here, not when a cashier opens a customer."""
    from prepaid.customers.keys import missing_keys

    return [
        Violation("keys", f"{count} customers are sealed with key {key_id}, which is missing")
        for key_id, count in missing_keys().items()
    ]
