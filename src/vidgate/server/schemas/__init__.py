"""The wire models of the gateway's own routes (requests and replies), one module per concern.

The handlers take their allowed fields and bounds from these models and render their replies through
them; ``server/openapi.py`` takes their JSON Schemas from ``model_json_schema``. The OpenAI video
shapes themselves (``Video``, ``VideoList``, ``VideoDeleted``) live in ``vidgate.types``.
"""
