"""Validation actions for the catalog's forms that need no code of their own: one ReportForm subclass per
form-kind function without a hand-written class, so adding such a function takes only its catalog entry.

Every other module of this package is imported first, so a hand-written class (custom validation) always
wins over the one built here.
"""

from __future__ import annotations

import importlib
import pkgutil

from actions import forms
from actions.forms.base import ServiceForm
from actions.forms.reports import ReportForm
from knowledge.catalog import catalog

for _module in pkgutil.iter_modules(forms.__path__):
    if _module.name != __name__.rsplit(".", 1)[-1]:
        importlib.import_module(f"{forms.__name__}.{_module.name}")


def class_name(form: str) -> str:
    return "Validate" + "".join(part.capitalize() for part in form.split("_"))


def build_missing() -> list[type[ServiceForm]]:
    """Creates (and so registers) a validation class for each catalog form that has none."""
    built: list[type[ServiceForm]] = []
    for form in catalog().forms.values():
        if form.name in ServiceForm.registry:
            continue
        attributes: dict[str, object] = {"form": form.name, "function_id": form.function_id, "__module__": __name__}
        if form.opening_min_chars is not None:
            attributes["opening_min_chars"] = form.opening_min_chars
        built.append(type(class_name(form.name), (ReportForm,), attributes))
    return built


BUILT = build_missing()
