"""Cost accounting from a configurable price table, and the rough token estimate used offline.

``LLM_PRICE_TABLE`` is a JSON object: model id → ``{"input_per_1k": USD, "output_per_1k": USD}``.
It is empty by default because prices change and differ per contract: an unknown model costs 0.0
and is flagged as unpriced rather than guessed. Bedrock's cross-region prefixes (``us.``,
``eu.``, ``apac.``, ``global.``) and a ``provider/`` prefix (LiteLLM) fall back to the bare id;
a ``"*"`` entry prices every other model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from pydantic import BaseModel

from orchestrator.clients.llm.base import TokenUsage

_REGION_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "global.", "jp.", "au.", "ca.")


class CallCost(BaseModel):
    usd: float = 0.0
    #: False when the model is not in the price table (its cost is reported as 0.0).
    priced: bool = False


def estimate_tokens(text: str) -> int:
    """About four characters per token: good enough for budgets and offline usage numbers."""
    return math.ceil(len(text) / 4) if text else 0


def _price_for(model: str, table: Mapping[str, Mapping[str, float]]) -> Mapping[str, float] | None:
    candidates = [model]
    for prefix in _REGION_PREFIXES:
        if model.startswith(prefix):
            candidates.append(model[len(prefix) :])
    if "/" in model:
        candidates.append(model.split("/", 1)[1])
    candidates.append("*")
    for candidate in candidates:
        if candidate in table:
            return table[candidate]
    return None


def price_call(model: str, usage: TokenUsage, table: Mapping[str, Mapping[str, float]]) -> CallCost:
    """The cost of one call, flagged as unpriced when ``model`` is not in ``table``."""
    price = _price_for(model, table)
    if price is None:
        return CallCost(usd=0.0, priced=False)
    usd = usage.tokens_in / 1000 * float(price.get("input_per_1k", 0.0))
    usd += usage.tokens_out / 1000 * float(price.get("output_per_1k", 0.0))
    return CallCost(usd=round(usd, 8), priced=True)


def cost_usd(model: str, usage: TokenUsage, table: Mapping[str, Mapping[str, float]]) -> float:
    """The cost of one call in USD; 0.0 for models missing from the price table."""
    return price_call(model, usage, table).usd
