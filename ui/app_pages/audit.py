"""The audit log page, admins only (logic in ui/audit_view.py)."""

from ui import audit_view

audit_view.render()
