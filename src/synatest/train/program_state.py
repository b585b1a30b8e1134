"""A program's learned state, the optimizer, and seeding every random draw of a run."""

from __future__ import annotations

import contextlib
import copy
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from synatest.train import _io
from synatest.train.config import TrainConfig, TrainingError


def trainable_state(program: Any) -> dict[str, Any]:
    """A deep copy of the program's trainable variables (its learned content)."""
    state: dict[str, Any] = copy.deepcopy(program.get_state_tree()["trainable_variables"])
    return state


def load_trainable_state(program: Any, state: dict[str, Any]) -> None:
    program.set_state_tree({"trainable_variables": copy.deepcopy(state)})


def forget_seed_candidates(program: Any) -> None:
    """Make the optimizer start from the variables' current content (used on resume)."""
    for variable in program.trainable_variables:
        variable.update({"seed_candidates": []})


def save_program(program: Any, path: Path) -> None:
    """``program.save`` through a temp file in the same directory (atomic)."""
    _io.write_with(path, lambda tmp: program.save(str(tmp)), suffix=".json")


@contextlib.contextmanager
def seeded_minibatches(seed: int) -> Iterator[None]:
    """Seed Synalinks' validation-minibatch draw, which uses fresh OS entropy otherwise.

    Without this two runs with the same seed score candidates on different
    minibatches and train different programs.
    """
    import numpy as np
    from synalinks.src.trainers import trainer as trainer_module

    original = trainer_module.stratified_minibatch_indices
    seeded_rng = np.random.default_rng(seed)

    def seeded(y: Any, size: int, rng: Any = None) -> Any:
        return original(y, size, rng=rng if rng is not None else seeded_rng)

    trainer_module.stratified_minibatch_indices = seeded
    try:
        yield
    finally:
        trainer_module.stratified_minibatch_indices = original


def seed_everything(seed: int) -> None:
    import numpy as np
    from synalinks.src.backend import config as backend_config

    random.seed(seed)
    np.random.seed(seed)
    backend_config.set_seed(seed)


def language_models(program: Any) -> list[Any]:
    import synalinks

    found: list[Any] = []
    for module in program._flatten_modules():
        for value in vars(module).values():
            if isinstance(value, synalinks.LanguageModel) and value not in found:
                found.append(value)
    return found


def make_optimizer(
    config: TrainConfig,
    program: Any,
    *,
    language_model: Any = None,
    embedding_model: Any = None,
) -> Any:
    """The Synalinks optimizer named by ``config.optimizer``."""
    import synalinks

    options = dict(config.optimizer_options)
    if config.optimizer == "random_few_shot":
        return synalinks.optimizers.RandomFewShot(**options)
    if embedding_model is None:
        raise TrainingError(
            "the omega optimizer needs an embedding model (it compares candidates by "
            "embedding): pass embedding_model=..., or with `synatest train` make sure "
            "the `embedding_model` fixture is served (e.g. by synatest.HashEmbeddings "
            "or a cassette), or use --optimizer random_few_shot"
        )
    if language_model is None:
        models = language_models(program)
        if not models:
            raise TrainingError(
                "the omega optimizer needs a language model to propose new instructions "
                "and the program has none: pass language_model=..."
            )
        language_model = models[0]
    return synalinks.optimizers.OMEGA(
        language_model=language_model, embedding_model=embedding_model, **options
    )


def take(values: Any, indices: Sequence[int]) -> Any:
    import numpy as np

    return np.array([values[i] for i in indices], dtype="object")


def save_program_with_state(program: Any, state: dict[str, Any], path: Path) -> None:
    """Save ``program`` as it is with ``state`` loaded, leaving it as it was."""
    current = trainable_state(program)
    load_trainable_state(program, state)
    try:
        save_program(program, path)
    finally:
        load_trainable_state(program, current)
