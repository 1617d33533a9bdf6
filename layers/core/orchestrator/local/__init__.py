"""Run the stack of ``template.yaml`` in this process: moto for AWS, the real handlers for Lambda.

Development and test tooling only: nothing here is imported by a Lambda handler, and moto is
imported when a runtime starts, not when this package is.
"""

from orchestrator.local.runtime import LocalRuntime

__all__ = ["LocalRuntime"]
