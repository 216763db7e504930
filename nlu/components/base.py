"""What the product's own graph components share with Rasa: built from their config, training data passed on
unchanged, and for the trainable ones a JSON model kept in Rasa's model storage.

A subclass sets MODEL_FILE and implements `fit` (training data → a JSON-able model); it reads `self.model`.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

C = TypeVar("C", bound="ConfiguredComponent")  # not typing.Self: the Rasa server runs Python 3.10
J = TypeVar("J", bound="JsonModelComponent")


class ConfiguredComponent(GraphComponent):
    """Nothing to train or load: built from its config alone."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    @classmethod
    def create(
        cls: type[C],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> C:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


class JsonModelComponent(GraphComponent):
    """Trained on the NLU data into a small JSON model (MODEL_FILE), saved with the Rasa model and loaded with it."""

    MODEL_FILE: ClassVar[str]

    def __init__(
        self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, model: Any = None
    ) -> None:
        self.config = config
        self._storage, self._resource = model_storage, resource
        self.model = self.from_json(model)

    def fit(self, training_data: TrainingData) -> Any:
        """The model as JSON-able data."""
        raise NotImplementedError

    def from_json(self, data: Any) -> Any:
        """The model as the component uses it (None before training)."""
        return data

    @classmethod
    def create(
        cls: type[J],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> J:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        data = self.fit(training_data)
        with self._storage.write_to(self._resource) as folder:
            (folder / self.MODEL_FILE).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        self.model = self.from_json(data)
        return self._resource

    @classmethod
    def load(
        cls: type[J],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> J:
        with model_storage.read_from(resource) as folder:
            data = json.loads((folder / cls.MODEL_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, data)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
