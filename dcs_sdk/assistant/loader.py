"""Load the configured assistant from a "package.module:ClassName" string."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any

from ..exceptions import ConfigError
from .base import Assistant


def load_assistant(spec: str, options: Mapping[str, Any] | None = None) -> Assistant:
    """Import ``spec`` ("package.module:ClassName") and return ``ClassName(**options)``.

    Every way this can fail raises ConfigError with a sentence naming the setting, so a
    typo in the configuration stops the server at start rather than on the first message.
    """
    module_name, sep, class_name = spec.strip().partition(":")
    if not sep or not module_name or not class_name.isidentifier():
        raise ConfigError(
            f'The assistant setting {spec!r} must look like "package.module:ClassName", '
            'e.g. "dcs_sdk.assistant.faq:FaqAssistant".'
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only a missing module named by the setting is the setting's fault; a missing
        # dependency inside it is reported as such.
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise ConfigError(
                f"The assistant module {module_name!r} cannot be found (from {spec!r})."
            ) from exc
        raise ConfigError(f"The assistant module {module_name!r} failed to import: {exc}.") from exc
    except Exception as exc:
        raise ConfigError(f"The assistant module {module_name!r} failed to import: {exc!r}.") from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ConfigError(f"The assistant module {module_name!r} has no {class_name!r} (from {spec!r}).")
    if not (inspect.isclass(cls) and issubclass(cls, Assistant)):
        raise ConfigError(f"The assistant {spec!r} is not a subclass of dcs_sdk.assistant.Assistant.")
    if inspect.isabstract(cls):
        raise ConfigError(f"The assistant {spec!r} is abstract: it must implement respond().")
    try:
        return cls(**dict(options or {}))
    except ConfigError:
        raise
    except TypeError as exc:
        raise ConfigError(f"The assistant_options do not fit {spec!r}: {exc}.") from exc
