"""Reasoning: intent routing (:mod:`.router`) and planning (:mod:`.planner`).

Nothing is imported here so a handler pays only for the module it uses.
"""
