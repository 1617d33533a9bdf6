"""Which tools to call for a request.

- :mod:`.selector` — by the model when a real one is configured, else by the rules;
- :mod:`.rules` — the offline rules (regular expressions a reader can check).
"""
