"""The customer information system stand-in behind its adapter interface (`CIS`).

It lives in the back end because the stand-in shares the back end's database, models and migrations; nothing
else in the package depends on it, and callers only see `CIS` and the records in `interface`.
"""

from backend.cis.interface import (
    CIS,
    OPEN_STATUSES,
    STATUS_LABELS,
    BillInfo,
    CustomerInfo,
    OrderInfo,
    OutageInfo,
)
from backend.cis.sql import SqlCIS

__all__ = ["CIS", "OPEN_STATUSES", "STATUS_LABELS", "BillInfo", "CustomerInfo", "OrderInfo", "OutageInfo", "SqlCIS"]
