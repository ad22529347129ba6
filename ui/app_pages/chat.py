"""The chat page (logic in ui/chat_view.py)."""

from ui import chat_view

chat_view.render()
