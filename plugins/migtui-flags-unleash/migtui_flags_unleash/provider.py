"""An OpenFeature provider over Unleash's client API (``GET /api/client/features``).

It fetches the feature toggles once per :meth:`UnleashProvider.refresh` and evaluates locally,
following Unleash's bucketing: murmur3 hashes, the ``default``, ``flexibleRollout`` and
``userWithId`` strategies (other strategies count as not matching, as Unleash's SDKs do for
unknown ones), and weighted variants (strategy variants first, then the feature's).

- ``resolve_boolean_details(flag)`` without a targeting key: the environment's toggle (reason
  STATIC/DISABLED); with one: whether the flag is on for that user (TARGETING_MATCH).
- ``resolve_string_details(flag)``: the variant name for the targeting key (reason SPLIT), or
  ``disabled`` when the flag is off for that user (reason DISABLED), like Unleash's SDKs.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Mapping, Sequence

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata

from migtui_flags_unleash.web import SourceError, decode_json, request, snippet

DISABLED_VARIANT = "disabled"
VARIANT_SEED = 86028157


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit (what Unleash uses for stickiness)."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF

    def rotl(x: int, r: int) -> int:
        return ((x << r) | (x >> (32 - r))) & mask

    h = seed & mask
    n = len(data)
    nblocks = n // 4
    for i in range(nblocks):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = rotl((k * c1) & mask, 15)
        h ^= (k * c2) & mask
        h = (rotl(h, 13) * 5 + 0xE6546B64) & mask
    tail = data[nblocks * 4:]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if tail:
        k ^= tail[0]
        k = rotl((k * c1) & mask, 15)
        h ^= (k * c2) & mask
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h


def _weight(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return 0
    return int(value)


def normalized_hash(identifier: str, group: str, normalizer: int = 100, seed: int = 0) -> int:
    return murmur3_32(f"{group}:{identifier}".encode(), seed) % normalizer + 1


class UnleashProvider(AbstractProvider):
    """See the module docstring. ``refresh()`` raises SourceError (one line) on any problem."""

    def __init__(self, url: str, token: str, *, app_name: str = "migtui", timeout: float = 5.0) -> None:
        super().__init__()
        self.url, self.token, self.app_name, self.timeout = url.rstrip("/"), token, app_name, timeout
        self._features: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get_metadata(self) -> Metadata:
        return Metadata(name="unleash (migtui)")

    # ------------------------------------------------------------------ fetching

    def refresh(self) -> list[str]:
        url = f"{self.url}/client/features"
        status, body = request("GET", url, timeout=self.timeout, what="unleash",
                               headers={"Authorization": self.token, "Accept": "application/json",
                                        "UNLEASH-APPNAME": self.app_name, "UNLEASH-INSTANCEID": "migtui"})
        if status in (401, 403):
            raise SourceError(f"unleash: HTTP {status} from {url}: the client token was refused")
        if not 200 <= status < 300:
            raise SourceError(f"unleash: HTTP {status} from {url}: {snippet(body)}")
        return self.load(decode_json(body, what="unleash", url=url), url)

    def load(self, doc: Any, url: str = "unleash") -> list[str]:
        """Take a decoded client-API document; SourceError (one line) when it is unusable."""
        features = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(features, list):
            raise SourceError(f"unleash: unexpected answer from {url}: expected an object with a 'features' list")
        parsed: dict[str, dict[str, Any]] = {}
        for f in features:
            if isinstance(f, dict) and isinstance(f.get("name"), str):
                parsed[f["name"]] = f
        with self._lock:
            self._features = parsed
        return sorted(parsed)

    def feature(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._features.get(name)

    # ------------------------------------------------------------------ evaluation

    def _on_for(self, feature: Mapping[str, Any], key: str) -> tuple[bool, Mapping[str, Any] | None]:
        """(on, the strategy that matched) for one user."""
        if not feature.get("enabled"):
            return False, None
        strategies = feature.get("strategies")
        if not isinstance(strategies, list) or not strategies:
            return True, None
        for s in strategies:
            if not isinstance(s, dict):
                continue
            name = s.get("name")
            params = s.get("parameters") if isinstance(s.get("parameters"), dict) else {}
            if s.get("constraints"):
                continue  # constraints need context fields we do not sample; do not guess
            if name == "default":
                return True, s
            if name in ("flexibleRollout", "gradualRolloutUserId", "gradualRolloutRandom"):
                try:
                    pct = float(params.get("rollout", params.get("percentage", 100)))
                except (TypeError, ValueError):
                    continue
                group = str(params.get("groupId") or feature.get("name"))
                if normalized_hash(key, group) <= pct:
                    return True, s
            elif name == "userWithId":
                ids = [i.strip() for i in str(params.get("userIds", "")).split(",")]
                if key in ids:
                    return True, s
        return False, None

    def _variant(self, feature: Mapping[str, Any], strategy: Mapping[str, Any] | None, key: str) -> str | None:
        variants: Sequence[Any] = ()
        if strategy is not None and isinstance(strategy.get("variants"), list) and strategy["variants"]:
            variants = strategy["variants"]
        elif isinstance(feature.get("variants"), list):
            variants = feature["variants"]
        weighted = [(str(v.get("name")), _weight(v.get("weight"))) for v in variants
                    if isinstance(v, dict) and v.get("name") is not None]
        total = sum(w for _, w in weighted)
        if not weighted or total <= 0:
            return None
        target = normalized_hash(key, str(feature.get("name")), normalizer=total, seed=VARIANT_SEED)
        acc = 0
        for name, w in weighted:
            acc += w
            if target <= acc:
                return name
        return weighted[-1][0]

    def resolve_boolean_details(self, flag_key: str, default_value: bool,
                                evaluation_context: EvaluationContext | None = None) -> FlagResolutionDetails[bool]:
        f = self.feature(flag_key)
        if f is None:
            return FlagResolutionDetails(default_value, reason=Reason.ERROR, error_code=ErrorCode.FLAG_NOT_FOUND,
                                         error_message=f"flag {flag_key!r} not found in Unleash")
        key = evaluation_context.targeting_key if evaluation_context is not None else None
        if not key:
            on = bool(f.get("enabled"))
            return FlagResolutionDetails(on, variant="on" if on else "off",
                                         reason=Reason.STATIC if on else Reason.DISABLED)
        on, _ = self._on_for(f, key)
        return FlagResolutionDetails(on, variant="on" if on else "off", reason=Reason.TARGETING_MATCH)

    def resolve_string_details(self, flag_key: str, default_value: str,
                               evaluation_context: EvaluationContext | None = None) -> FlagResolutionDetails[str]:
        f = self.feature(flag_key)
        if f is None:
            return FlagResolutionDetails(default_value, reason=Reason.ERROR, error_code=ErrorCode.FLAG_NOT_FOUND,
                                         error_message=f"flag {flag_key!r} not found in Unleash")
        key = (evaluation_context.targeting_key if evaluation_context is not None else None) or ""
        on, strategy = self._on_for(f, key)
        if not on:
            return FlagResolutionDetails(DISABLED_VARIANT, variant=DISABLED_VARIANT, reason=Reason.DISABLED)
        name = self._variant(f, strategy, key)
        if name is None:
            return FlagResolutionDetails(default_value, reason=Reason.DEFAULT)
        return FlagResolutionDetails(name, variant=name, reason=Reason.SPLIT)

    def _type_mismatch(self, flag_key: str, default_value: Any) -> FlagResolutionDetails[Any]:
        return FlagResolutionDetails(default_value, reason=Reason.ERROR, error_code=ErrorCode.TYPE_MISMATCH,
                                     error_message=f"Unleash flags are booleans with string variants ({flag_key})")

    def resolve_integer_details(self, flag_key: str, default_value: int,
                                evaluation_context: EvaluationContext | None = None) -> FlagResolutionDetails[int]:
        return self._type_mismatch(flag_key, default_value)

    def resolve_float_details(self, flag_key: str, default_value: float,
                              evaluation_context: EvaluationContext | None = None) -> FlagResolutionDetails[float]:
        return self._type_mismatch(flag_key, default_value)

    def resolve_object_details(self, flag_key: str, default_value: Any,
                               evaluation_context: EvaluationContext | None = None) -> FlagResolutionDetails[Any]:
        return self._type_mismatch(flag_key, default_value)
