"""The data page (logic in ui/data_view.py)."""

from ui import data_view

data_view.render()
