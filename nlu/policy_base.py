"""A policy that decides from the conversation alone, ahead of the rules: nothing to learn, priority above the
RulePolicy's. The product's escalation and survey policies are such policies."""

from __future__ import annotations

from typing import Any, TypeVar

from rasa.core.constants import RULE_POLICY_PRIORITY
from rasa.core.policies.policy import Policy
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates

P = TypeVar("P", bound="AheadOfRulesPolicy")  # not typing.Self: the Rasa server runs Python 3.10


class AheadOfRulesPolicy(Policy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": RULE_POLICY_PRIORITY + 1}

    @classmethod
    def create(
        cls: type[P],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> P:
        return cls(config, model_storage, resource, execution_context)

    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        with self._model_storage.write_to(self._resource):  # nothing to learn; the resource must still exist
            pass
        return self._resource
