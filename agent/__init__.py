"""The agent side of contactlab: the ``contactlab`` command, configs, run folders, explorers and
the active-learning loop. The only package that knows about Hydra, SB3 and Ray."""
