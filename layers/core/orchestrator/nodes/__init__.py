"""Graph nodes: each module turns a :class:`~orchestrator.state.NodeEvent` into the node's output.

A Lambda handler calls ``<node>.handle(event)``; unit tests call the action functions directly.
"""
