"""A ``reward=`` as suites, ``synatest train`` and ``assert_reward`` take it: its name for
reports (no Synalinks import), and the Synalinks ``Reward`` it stands for."""

from __future__ import annotations

import inspect
from typing import Any


def reward_name(reward: Any) -> str:
    """A reward's name for reports, computed without importing Synalinks."""
    if reward is None:
        return "exact_match"
    if isinstance(reward, str):
        return reward
    if inspect.isclass(reward):
        return reward.__name__
    name = getattr(reward, "name", None)
    if isinstance(name, str):
        return name
    return str(getattr(reward, "__name__", type(reward).__name__))


def resolve_reward(reward: Any) -> Any:
    """A Synalinks ``Reward`` from a marker's ``reward=``.

    Accepts None (``ExactMatch``), a name (Synalinks' ``rewards.get`` names, or a
    synatest reward class name such as ``"NumericMatch"``), a ``Reward`` class or
    instance, or an ``async def fn(y_true, y_pred)``.
    """
    import synalinks

    from synatest import rewards as synatest_rewards

    if reward is None:
        return synalinks.rewards.ExactMatch()
    if isinstance(reward, str):
        ours = getattr(synatest_rewards, reward, None)
        if inspect.isclass(ours) and issubclass(ours, synalinks.rewards.Reward):
            return ours()
        try:
            found = synalinks.rewards.get(reward)
        except ValueError:
            found = None
        if found is None:
            raise ValueError(
                f"unknown reward {reward!r}: use a Synalinks reward name ('ExactMatch', "
                "'CosineSimilarity', ...), a synatest reward "
                f"({', '.join(synatest_rewards.__all__)}), a Reward instance or an "
                "`async def reward(y_true, y_pred)`"
            )
        return found
    if inspect.isclass(reward) and issubclass(reward, synalinks.rewards.Reward):
        return reward()
    if isinstance(reward, synalinks.rewards.Reward):
        return reward
    if callable(reward):
        if not inspect.iscoroutinefunction(reward):
            raise ValueError(
                f"reward function {reward_name(reward)!r} must be declared `async def "
                f"{reward_name(reward)}(y_true, y_pred)` (Synalinks awaits rewards)"
            )
        return synalinks.rewards.RewardFunctionWrapper(fn=reward, name=reward_name(reward))
    raise ValueError(f"cannot use {reward!r} as a reward")
