"""The catalog page (logic in ui/catalog_view.py)."""

from ui import catalog_view

catalog_view.render()
