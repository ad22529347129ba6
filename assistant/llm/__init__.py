"""The optional LLM side of the assistant: planner and narrator over any OpenAI-compatible endpoint.

The model only fills a ``SemanticQuery`` (or, in analyst mode, proposes SQL for
the guard); the compiler, the guard and the engine decide what runs. Nothing
configured means nothing here is used: the offline planner answers alone.
"""
