"""Intrinsic rewards computed from a world model: prediction error, ensemble disagreement, RND,
learning progress. Imports ``envs`` and ``world_model`` only."""
