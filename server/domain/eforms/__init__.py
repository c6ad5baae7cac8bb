"""Online applications (オンライン申請): procedures as data, form values, uploads, the application
lifecycle. The HTML lives in the ``portal`` (residents) and ``console`` (staff) domains."""

from __future__ import annotations

route_handlers: list[object] = []
