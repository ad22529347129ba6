"""The admin page (logic in ui/admin_view.py)."""

from ui import admin_view

admin_view.render()
