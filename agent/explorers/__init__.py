"""Exploration policies: ``random``, ``mpc`` (planning over the world model) and SB3 policies
(``ppo``, ``sac``) trained on intrinsic reward through a reward wrapper and a callback; looked
up by name in :mod:`agent.explorers.registry` (``docs/explorers.md``)."""
