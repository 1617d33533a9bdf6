"""Core of the serverless agent orchestrator: state contract, nodes, clients and the local runtime.

Nothing in this package knows about Lambda events; the handlers in ``functions/`` adapt events to it.
"""

__version__ = "0.1.0"
